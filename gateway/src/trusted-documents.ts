// Trusted documents (persisted operations): GraphQL documents known before any request, each
// under the sha256 of its exact text. A caller sends the hash instead of the text and the gateway
// runs the stored text. Anonymous callers may run only the documents listed in PUBLIC_OPERATIONS,
// exactly as written: an allow-list by operation name would let the caller choose the fields.
//
// The manifest is the file the apps' build writes: either GraphQL Codegen's and Relay's flat
// `{ "<sha256>": "<document>" }`, or Apollo's `{ "format": "apollo-persisted-query-manifest",
// "operations": [{ "id", "body", ... }] }`. Every hash is checked against its text at startup.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import type { GatewayConfigBase } from '@graphql-hive/gateway';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function isDocumentHash(value: string): boolean {
  return SHA256_HEX.test(value);
}

/**
 * The trusted document a request names, by either convention clients use: Apollo's
 * `extensions.persistedQuery.sha256Hash` (version 1, also in a GET query string) or the
 * GraphQL-over-HTTP `documentId`. The authenticator and the runtime read it through this one
 * function, so a request is judged by the same document it then runs.
 */
export function persistedDocumentId(params: { extensions?: unknown; documentId?: unknown }): string | undefined {
  const extensions = params.extensions;
  if (extensions !== null && typeof extensions === 'object') {
    const persisted = (extensions as Record<string, unknown>)['persistedQuery'];
    if (persisted !== null && typeof persisted === 'object') {
      const { version, sha256Hash } = persisted as Record<string, unknown>;
      if (version === 1 && typeof sha256Hash === 'string') return sha256Hash;
    }
  }
  return typeof params.documentId === 'string' ? params.documentId : undefined;
}

export interface TrustedDocumentsManifest {
  /** sha256 hex of the text -> the text. */
  documents: Map<string, string>;
  /** Operation name -> hash, to point someone migrating from PUBLIC_OPERATIONS names at the hash. */
  hashesByOperationName: Map<string, string>;
}

const MAX_REPORTED = 10;

/** Reads and checks a manifest; every problem is listed (the first ten entries in detail). */
export function readTrustedDocuments(path: string): { manifest?: TrustedDocumentsManifest; problems: string[] } {
  const name = `TRUSTED_DOCUMENTS_FILE=${path}`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'does not exist' : code ? `cannot be read (${code})` : `is not JSON (${(error as Error).message})`;
    return { problems: [`${name} ${why}: point it at the trusted-documents manifest the apps' build writes, or unset it.`] };
  }
  const entries = manifestEntries(raw);
  if (entries === undefined) {
    return {
      problems: [`${name} is not a manifest: expected { "<sha256>": "<document>", ... } or Apollo's { "format": "apollo-persisted-query-manifest", "operations": [...] }.`],
    };
  }
  const documents = new Map<string, string>();
  const hashesByOperationName = new Map<string, string>();
  const wrong: string[] = [];
  for (const [id, text] of entries) {
    if (typeof text !== 'string' || text.trim() === '') {
      wrong.push(`"${id}" has no document text`);
      continue;
    }
    const actual = sha256Hex(text);
    if (id !== actual) {
      wrong.push(`"${id}" is not the sha256 of its text (that is ${actual})`);
      continue;
    }
    try {
      for (const definition of parse(text, { noLocation: true }).definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) hashesByOperationName.set(definition.name.value, id);
      }
    } catch (error) {
      wrong.push(`"${id}" does not parse (${(error as Error).message})`);
      continue;
    }
    documents.set(id, text);
  }
  if (wrong.length > 0) {
    const shown = wrong.slice(0, MAX_REPORTED).join('; ');
    const more = wrong.length > MAX_REPORTED ? `; and ${wrong.length - MAX_REPORTED} more` : '';
    return { problems: [`${name} has ${wrong.length} bad entr${wrong.length === 1 ? 'y' : 'ies'}: ${shown}${more}. Regenerate the manifest from the apps' documents.`] };
  }
  return { manifest: { documents, hashesByOperationName }, problems: [] };
}

function manifestEntries(raw: unknown): [string, unknown][] | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  if (record['format'] === 'apollo-persisted-query-manifest') {
    if (!Array.isArray(record['operations'])) return undefined;
    return (record['operations'] as unknown[]).map((op, i) => {
      const { id, body } = (op ?? {}) as Record<string, unknown>;
      return [typeof id === 'string' ? id : `operations[${i}]`, body];
    });
  }
  return Object.entries(record);
}

export interface TrustedDocumentsOptions {
  manifest: TrustedDocumentsManifest;
  /** Whether this request may send a document's text instead of a hash. */
  allowArbitraryDocuments: (request: Request) => boolean;
}

/** The runtime's `persistedDocuments` setting: the gateway's own store, our id convention. */
export function trustedDocumentsSetting(options: TrustedDocumentsOptions): NonNullable<GatewayConfigBase<Record<string, unknown>>['persistedDocuments']> {
  const { documents } = options.manifest;
  return {
    getPersistedOperation: (id: string) => documents.get(id) ?? null,
    allowArbitraryDocuments: options.allowArbitraryDocuments,
    extractPersistedOperationId: (params: { extensions?: unknown; documentId?: unknown }) => persistedDocumentId(params) ?? null,
    // The supergraph changes under stored documents: validate them like any other.
    skipDocumentValidation: false,
    customErrors: {
      // Apollo's automatic persisted queries resend the text on this code, which a signed-in
      // client may do unless REQUIRE_TRUSTED_DOCUMENTS is on.
      notFound: { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
      persistedQueryOnly: {
        message: 'Only trusted documents run here: send the sha256 of a document from the manifest instead of its text.',
        extensions: { code: 'TRUSTED_DOCUMENT_REQUIRED' },
      },
      keyNotFound: { message: 'Name a trusted document by its sha256 (extensions.persistedQuery.sha256Hash or documentId).', extensions: { code: 'TRUSTED_DOCUMENT_REQUIRED' } },
    },
  };
}
