// How many strings in this process's heap contain a text: a heap snapshot (which collects
// garbage first, so only what something still holds is counted), read as it streams, never
// whole (a snapshot can be larger than the longest string V8 allows).

import { getHeapSnapshot } from 'node:v8';

export async function stringsHolding(text: string): Promise<number> {
  let found = 0;
  let carry = '';
  for await (const chunk of getHeapSnapshot()) {
    const seen = carry + (chunk as Buffer).toString('latin1');
    for (let at = seen.indexOf(text); at !== -1; at = seen.indexOf(text, at + text.length)) found++;
    // Keep the tail that could hold the start of a match split across chunks, and no more.
    carry = text.length > 1 ? seen.slice(-(text.length - 1)) : '';
  }
  return found;
}
