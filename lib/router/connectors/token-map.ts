/**
 * A map from order token (a short ASCII string) to a connector's per-order state that makes no
 * garbage as orders come and go: open addressing over two preallocated arrays, linear probing,
 * deletion by backward shift (no tombstones), so a set and a delete only store references.
 *
 * Why not `Map`: V8's Map is an ordered hash table that is rebuilt into a new table when its
 * deleted entries fill it (every few orders at the sizes a connector holds) and when a delete
 * leaves it under a quarter full (every order, for a map that holds one order at a time). Once the
 * Map has lived through two scavenges its table is in old space, and V8 allocates each rebuilt
 * table there too: ~100-150 B of old-space garbage per order and map, which only a major GC frees.
 * At the keep-warm shadow route's thousands of dry runs a second (lib/pipeline/stages/shadow-route.ts)
 * that was the ~300 B per run that grew the stage worker's old space by ~1.5 MB/s.
 *
 * The table grows (doubles, allocating) only when more orders are live at once than it ever held
 * before; `entries()` (insertion order, for resends after a re-login) allocates and is for rare paths.
 *
 * Threading contract: one owner (the connector's thread); not shared.
 */
export class TokenMap<V> {
  private keys: (string | undefined)[];
  private vals: (V | undefined)[];
  /** Insertion number of each slot's entry, for entries() in insertion order (as Map iterates). */
  private added: Float64Array;
  private mask: number;
  private next = 0;
  /** Entries held. */
  size = 0;

  constructor(capacity = 64) {
    let n = 8;
    while (n < capacity * 2) n <<= 1;
    this.mask = n - 1;
    this.keys = new Array<string | undefined>(n).fill(undefined);
    this.vals = new Array<V | undefined>(n).fill(undefined);
    this.added = new Float64Array(n);
  }

  /** FNV-1a over the UTF-16 code units: tokens are at most 14 characters. */
  private static hash(k: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }

  /** The slot holding `k`, or -1. */
  private find(k: string): number {
    const keys = this.keys, mask = this.mask;
    let i = TokenMap.hash(k) & mask;
    for (;;) {
      const s = keys[i];
      if (s === undefined) return -1;
      if (s === k) return i;
      i = (i + 1) & mask;
    }
  }

  get(k: string): V | undefined {
    const i = this.find(k);
    return i < 0 ? undefined : this.vals[i];
  }

  has(k: string): boolean { return this.find(k) >= 0; }

  /** Sets `k`; an existing key keeps its place in insertion order, as with Map. */
  set(k: string, v: V): this {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys, mask = this.mask;
    let i = TokenMap.hash(k) & mask;
    for (;;) {
      const s = keys[i];
      if (s === undefined) break;
      if (s === k) { this.vals[i] = v; return this; }
      i = (i + 1) & mask;
    }
    keys[i] = k;
    this.vals[i] = v;
    this.added[i] = this.next++;
    this.size++;
    return this;
  }

  delete(k: string): boolean {
    let i = this.find(k);
    if (i < 0) return false;
    const keys = this.keys, vals = this.vals, added = this.added, mask = this.mask;
    // Backward shift: move later entries of the probe run into the hole, so no lookup stops early.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = keys[j];
      if (s === undefined) break;
      const home = TokenMap.hash(s) & mask;
      // Move j into i when its home is not cyclically within (i, j].
      if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
        keys[i] = s; vals[i] = vals[j]; added[i] = added[j];
        i = j;
      }
    }
    keys[i] = undefined;
    vals[i] = undefined;
    this.size--;
    return true;
  }

  clear(): void {
    this.keys.fill(undefined);
    this.vals.fill(undefined);
    this.size = 0;
  }

  /** The entries in insertion order (allocates: rare paths only). */
  entries(): [string, V][] {
    const out: [string, V, number][] = [];
    for (let i = 0; i <= this.mask; i++) {
      const k = this.keys[i];
      if (k !== undefined) out.push([k, this.vals[i] as V, this.added[i]]);
    }
    out.sort((a, b) => a[2] - b[2]);
    return out.map(([k, v]) => [k, v]);
  }

  private grow(): void {
    const keys = this.keys, vals = this.vals, added = this.added;
    const n = (this.mask + 1) * 2;
    this.mask = n - 1;
    this.keys = new Array<string | undefined>(n).fill(undefined);
    this.vals = new Array<V | undefined>(n).fill(undefined);
    this.added = new Float64Array(n);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === undefined) continue;
      let j = TokenMap.hash(k) & this.mask;
      while (this.keys[j] !== undefined) j = (j + 1) & this.mask;
      this.keys[j] = k; this.vals[j] = vals[i]; this.added[j] = added[i];
    }
  }
}
