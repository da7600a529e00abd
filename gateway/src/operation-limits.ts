// Limits on what one request may ask for, each checked before the work it protects:
// - operations per batch, as soon as the body is parsed (each operation is parsed and validated
//   on its own, so every other limit is multiplied by the batch size);
// - characters of a document, before it is parsed (refused from the parse hook, before the parser
//   runs, so never kept by the runtime's parse cache): the runtime keeps up to 1,024 parsed
//   documents keyed by their text (never one that failed to parse: see afterParse), so this
//   bounds that memory too; comments, which no token limit counts, count here;
// - lexical tokens, while parsing (graphql-js's own maxLexicalTokens stops the parser at the
//   limit; GraphQL Armor's counting parser does the same through a Proxy that allocates on every
//   token, which under a flood of refused documents showed as garbage-collection pauses);
// - depth, aliases, directives and Armor's cost estimate, in one pass over the parsed document
//   before graphql-js validates it. graphql-js's overlapping-fields rule costs the square of
//   repeated fields, and a rule added to validation runs only after the fragments before it were
//   checked, so these limits are checked first and a refused document is never validated.
// The body-size cap sits in front of all this, in the HTTP server (body-limit.ts).

import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, parse, validate, type DocumentNode, type ParseOptions, type Source, type ValidationRule } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import type { IdentityCarrier } from './identity-plugin.ts';
import { IDENTITY } from './identity-plugin.ts';
import type { Limit, Refusals } from './refusals.ts';

export interface OperationLimits {
  maxBatchOperations: number;
  maxDocumentCharacters: number;
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
  /** Say the limit and the measured value in the client's error (off in production). */
  exposeLimits: boolean;
}

type DocumentLimit = Extract<Limit, 'depth' | 'aliases' | 'directives' | 'cost'>;

const CLIENT_MESSAGES: Record<Exclude<Limit, 'internal_field' | 'rate_user' | 'rate_address' | 'body_size'>, string> = {
  batch_size: 'Too many operations in one batched request.',
  characters: 'The document is too long: send fewer fields or split the operation.',
  tokens: 'The document is too large: send fewer fields or split the operation.',
  depth: 'The operation is nested too deeply.',
  aliases: 'The operation uses too many aliases.',
  directives: 'The operation uses too many directives.',
  cost: 'The operation asks for too much at once: split it.',
};

/** A refusal found in the pre-validation pass, before it is turned into the client's error. */
interface Exceeded {
  limit: DocumentLimit;
  /** Armor's message with the limit and the measured value. */
  detail: string;
}

export function useOperationLimits(limits: OperationLimits, refusals: Refusals): GatewayPlugin {
  const message = (limit: keyof typeof CLIENT_MESSAGES, detail: string) =>
    limits.exposeLimits ? `${CLIENT_MESSAGES[limit]} ${detail}` : CLIENT_MESSAGES[limit];

  // Each rule reports through onReject instead of throwing, so one pass finds every limit a
  // document exceeds and records which one it was.
  const rulesReportingTo = (found: Exceeded[]): ValidationRule[] => {
    const report = (limit: DocumentLimit) => ({
      exposeLimits: true,
      propagateOnRejection: false,
      onReject: [(_ctx: unknown, error: GraphQLError) => void found.push({ limit, detail: error.message.replace(/^Syntax Error: /, '') })],
    });
    return [
      maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ...report('depth') }),
      maxAliasesRule({ n: limits.maxAliases, ...report('aliases') }),
      maxDirectivesRule({ n: limits.maxDirectives, ...report('directives') }),
      costLimitRule({ maxCost: limits.maxCost, ...report('cost') }),
    ];
  };

  // The same document object comes back from the runtime's parse cache for the same text, so
  // the pass runs once per distinct document.
  const verdicts = new WeakMap<DocumentNode, Exceeded[]>();

  function parseWithTokenLimit(source: string | Source, options?: ParseOptions): DocumentNode {
    try {
      return parse(source, { ...options, maxLexicalTokens: limits.maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError && error.message.includes(TOKEN_LIMIT_MESSAGE)) {
        throw new TokenLimitExceeded(`Token limit of ${limits.maxTokens} exceeded.`, typeof source === 'string' ? source : source.body);
      }
      throw error;
    }
  }

  // The hooks below run for every request: they are built once, not per request.
  const batchCheck = {
    onRequestParseDone({ requestParserResult }: { requestParserResult: unknown }) {
      if (Array.isArray(requestParserResult) && requestParserResult.length > limits.maxBatchOperations) {
        const detail = `${requestParserResult.length} operations > ${limits.maxBatchOperations}`;
        throw refusals.refuse('batch_size', message('batch_size', detail), { detail }, { http: { status: 413 } });
      }
    },
  };
  // A document that fails to parse leaves through an error thrown here, before the runtime's
  // parse cache (the hook after this one) can keep it: that cache holds 1,024 documents, failed
  // ones too, keyed by their text, so a flood of distinct failing documents kept each one for the
  // next thousand requests, long enough to be copied into the old generation, whose collections
  // then held the event loop (bench/gateway/RESULTS.md). A repeated failing document is parsed
  // again, up to the token limit, and refused and counted again.
  const afterParse = ({ result, context }: { result: unknown; context: unknown }) => {
    if (result instanceof TokenLimitExceeded) {
      const identity = (context as IdentityCarrier)[IDENTITY];
      throw refusals.refuse('tokens', message('tokens', result.detail), { detail: result.detail, identity, document: result.text });
    }
    if (result instanceof Error) {
      // Over HTTP the runtime's next hook would give a parse error its code and the status
      // GraphQL over HTTP asks for; thrown here, it does not run.
      if (result instanceof GraphQLError && (context as { request?: unknown }).request) {
        const extensions = result.extensions as Record<string, unknown> & { http?: Record<string, unknown> };
        extensions.code ||= 'GRAPHQL_PARSE_FAILED';
        const http = (extensions.http ||= {});
        http['spec'] ||= true;
        http['status'] ||= 400;
      }
      throw result;
    }
  };

  return {
    onRequestParse: () => batchCheck,

    onParse({ params, setParseFn, context }) {
      const text = typeof params.source === 'string' ? params.source : params.source.body;
      if (text.length > limits.maxDocumentCharacters) {
        const detail = `${text.length} characters > ${limits.maxDocumentCharacters}`;
        throw refusals.refuse('characters', message('characters', detail), { detail, identity: (context as IdentityCarrier)[IDENTITY], document: text });
      }
      setParseFn(parseWithTokenLimit);
      return afterParse;
    },

    onValidate({ params, setResult, context }) {
      const document = params.documentAST;
      let exceeded = verdicts.get(document);
      if (exceeded === undefined) {
        exceeded = [];
        validate(params.schema, document, rulesReportingTo(exceeded));
        verdicts.set(document, exceeded);
      }
      if (exceeded.length === 0) return;
      const identity = (context as IdentityCarrier)[IDENTITY];
      const text = document.loc?.source.body;
      setResult(exceeded.map(({ limit, detail }) => refusals.refuse(limit, message(limit, detail), { detail, identity, document: text })));
    },
  };
}

/** How graphql-js says it stopped at maxLexicalTokens. */
const TOKEN_LIMIT_MESSAGE = 'tokens. Parsing aborted.';

/** Thrown by the counting parser; turned into the refusal where the caller is known. */
class TokenLimitExceeded extends Error {
  constructor(
    readonly detail: string,
    readonly text: string,
  ) {
    super(detail);
  }
}
