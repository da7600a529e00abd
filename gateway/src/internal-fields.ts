// Fields that exist in the supergraph for the gateway's own use, never for clients. The identity
// lookup's field (userBySupabaseId by default) answers any user's id and e-mail for any Supabase
// id, so a signed-in client asking for it could read someone else's account. The gateway calls
// users_service for the lookup directly, not through the supergraph, so refusing the field here
// leaves the lookup untouched.
//
// The refusal is the error graphql-js gives for a field that does not exist, with no suggestion,
// and it happens in validation: direct, aliased, inside fragments, in every operation of a batch
// and over WebSocket alike, because all of them are validated.

import { GraphQLError, Kind, OperationTypeNode, parse, type ValidationRule } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { IDENTITY, type IdentityCarrier } from './identity-plugin.ts';
import type { Refusals } from './refusals.ts';

const TYPE_AND_FIELD = /^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/;

export function isTypeAndField(value: string): boolean {
  return TYPE_AND_FIELD.test(value);
}

/** The root fields a lookup query selects, as Query.<field> (the field's name, not its alias). */
export function lookupFieldsOf(lookupQuery: string): string[] {
  const fields: string[] = [];
  for (const definition of parse(lookupQuery, { noLocation: true }).definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== OperationTypeNode.QUERY) continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind === Kind.FIELD) fields.push(`Query.${selection.name.value}`);
    }
  }
  return fields;
}

export function useInternalFields(fields: Iterable<string>, refusals: Refusals): GatewayPlugin {
  const internal = new Set(fields);
  // Errors of this rule, recognised again when the runtime serves a validation result from its cache.
  const ours = new WeakSet<GraphQLError>();
  const rule: ValidationRule = (context) => ({
    Field(node) {
      const parent = context.getParentType();
      if (!parent || !internal.has(`${parent.name}.${node.name.value}`)) return;
      const error = new GraphQLError(`Cannot query field "${node.name.value}" on type "${parent.name}".`, { nodes: [node] });
      ours.add(error);
      context.reportError(error);
    },
  });

  // Built once: it runs after every validation, cached or not.
  const countRefusals = ({ result, context }: { result: readonly Error[]; context: unknown }) => {
    for (const error of result) {
      if (error instanceof GraphQLError && ours.has(error)) refusals.record('internal_field', { detail: error.message, identity: (context as IdentityCarrier)[IDENTITY] });
    }
  };

  return {
    onValidate({ addValidationRule }) {
      if (internal.size === 0) return undefined;
      addValidationRule(rule);
      return countRefusals;
    },
  };
}
