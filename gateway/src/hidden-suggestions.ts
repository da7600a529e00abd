// With introspection off, "Did you mean ...?" in an error message would hand the schema out one
// guess at a time (internal fields included). In production every such hint is removed: field,
// argument, type and directive names from validation, and enum values, which graphql-js suggests
// both in validation (a literal) and in execution (a variable). GraphQL Armor's
// block-field-suggestions covers only the first group, so this one rule covers both stages.

import { GraphQLError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway';

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function withoutSuggestion<E extends Error>(error: E): E | GraphQLError {
  if (!error.message.includes('Did you mean')) return error;
  if (!(error instanceof GraphQLError)) return new GraphQLError(error.message.replace(SUGGESTION, ''));
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

export function useHiddenSuggestions(): GatewayPlugin {
  return {
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(withoutSuggestion));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          // Streams (subscriptions, @defer) carry their own errors; a hint there needs an operation that validated.
          if (Symbol.asyncIterator in result || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map(withoutSuggestion) });
        },
      };
    },
  };
}
