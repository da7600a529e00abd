// The local supergraph: the stand-in subgraphs composed with the federation composer, pointing
// at where they listen. Production gets its supergraph from Hive's CDN or a file instead.

import { composeServices, compositionHasErrors } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { USERS_SDL } from './users.ts';
import { WORKOUTS_SDL } from './workouts.ts';

export function composeLocalSupergraph(urls: { users: string; workouts: string }): string {
  const result = composeServices([
    { name: 'users_service', typeDefs: parse(USERS_SDL), url: urls.users },
    { name: 'workouts_service', typeDefs: parse(WORKOUTS_SDL), url: urls.workouts },
  ]);
  if (compositionHasErrors(result)) throw new Error(`the local subgraphs do not compose:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}
