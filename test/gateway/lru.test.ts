// The bounded, expiring map behind every token and identity cache: it never holds more than its
// bound, a read entry outlives older unread ones when room is needed (second chance), entries
// expire on time, and a flood of new keys cannot push out the keys that keep being read.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpiringLru } from '../../gateway/src/lru.ts';

test('holds at most its bound; the oldest unread entry goes first', () => {
  const lru = new ExpiringLru<number>(3);
  lru.set('a', 1, 60_000);
  lru.set('b', 2, 60_000);
  lru.set('c', 3, 60_000);
  lru.set('d', 4, 60_000);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('a'), undefined);
  assert.deepEqual(['b', 'c', 'd'].map((k) => lru.get(k)), [2, 3, 4]);
});

test('a read entry gets a second chance: the next unread one is evicted instead', () => {
  const lru = new ExpiringLru<number>(3);
  lru.set('a', 1, 60_000);
  lru.set('b', 2, 60_000);
  lru.set('c', 3, 60_000);
  assert.equal(lru.get('a'), 1);
  lru.set('d', 4, 60_000);
  assert.equal(lru.get('b'), undefined, 'b was the oldest entry nobody read');
  assert.equal(lru.get('a'), 1);
  assert.equal(lru.size, 3);
});

test('when every entry was read, eviction still makes room (and ends)', () => {
  const lru = new ExpiringLru<number>(3);
  for (const [k, v] of [['a', 1], ['b', 2], ['c', 3]] as const) lru.set(k, v, 60_000);
  for (const k of ['a', 'b', 'c']) lru.get(k);
  lru.set('d', 4, 60_000);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('d'), 4);
  assert.equal(lru.get('a'), undefined, 'after a full round of second chances the oldest goes');
});

test('entries expire at their time, and a non-positive lifetime stores nothing', () => {
  let now = 1_000;
  const lru = new ExpiringLru<string>(10, () => now);
  lru.set('short', 'x', 500);
  lru.set('none', 'y', 0);
  assert.equal(lru.get('short'), 'x');
  assert.equal(lru.get('none'), undefined);
  now = 1_500;
  assert.equal(lru.get('short'), undefined);
  assert.equal(lru.size, 0);
});

test('keys read all the time survive a flood of new keys ten times the bound', () => {
  const lru = new ExpiringLru<number>(100);
  const hot = Array.from({ length: 10 }, (_, i) => `hot-${i}`);
  for (const k of hot) lru.set(k, 1, 60_000);
  for (let i = 0; i < 1_000; i++) {
    lru.set(`flood-${i}`, i, 60_000);
    for (const k of hot) assert.equal(lru.get(k), 1, `${k} evicted after ${i} new keys`);
    assert.ok(lru.size <= 100);
  }
});

test('a bound that is not a positive integer is refused', () => {
  assert.throws(() => new ExpiringLru(0), /positive integer/);
  assert.throws(() => new ExpiringLru(1.5), /positive integer/);
});
