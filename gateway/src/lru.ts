// A bounded map whose entries also expire. Every identity and token cache in the gateway is one,
// so memory stays flat however many distinct users or tokens arrive.
//
// Eviction is least-recently-used by second chance (the CLOCK algorithm): a read only marks its
// entry, and the eviction that needs room moves marked entries to the young end instead of
// dropping them. Moving the entry on every read, as a strict LRU does, cost a Map delete and
// insert per request on the gateway's hottest path, twice (token and identity).

export class ExpiringLru<V> {
  // A Map iterates in insertion order: the first key is the oldest, the first one eviction looks at.
  private readonly entries = new Map<string, { value: V; expiresAt: number; read: boolean }>();

  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    entry.read = true;
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (!(ttlMs > 0)) return;
    this.entries.delete(key);
    // Room first, so the entry being stored is never the one evicted.
    if (this.entries.size >= this.maxEntries) this.evictOne();
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs, read: false });
  }

  /** Drops the oldest entry not read since it last moved; read ones move to the young end, unmarked. */
  private evictOne(): void {
    // Ends: every entry moved is unmarked, so at worst the second visit of the oldest drops it.
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.read) return;
      entry.read = false;
      this.entries.set(key, entry);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
