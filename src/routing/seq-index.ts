/**
 * Live values by a sequence number that is handed out in increasing order (reservation seqs).
 *
 * Most values leave in about the order they came (a constant expiry), so they sit in a ring indexed by
 * `seq - base`: adding is an array store, and the ring's front moves past values as they leave. A value
 * that must outlive the ones after it (a refreshed sticky reservation) is `pin`ned: it moves to a small Map,
 * so that it never holds the ring's front and the ring stays as long as the live window, not the history.
 *
 * At a high /route rate with the default 120 s pending timeout this holds millions of values; a Map keyed
 * by number costs a hash-table insert, and a growing table, per request.
 */
export class SeqIndex<T> {
  private buf: (T | undefined)[] = new Array<T | undefined>(16).fill(undefined);
  private mask = 15;
  /** The seq of the ring's first slot. */
  private base = 1;
  /** Slots in use from base (live values and holes). */
  private n = 0;
  private live = 0;
  private readonly pinned = new Map<number, T>();

  /** How many values are held. */
  get size(): number {
    return this.live + this.pinned.size;
  }

  /** Adds the value of the next seq; `seq` must be one more than the last one added (the first may be any). */
  push(seq: number, value: T): void {
    if (this.n === 0) this.base = seq;
    else if (seq !== this.base + this.n) throw new Error(`SeqIndex: seq ${seq} out of order (expected ${this.base + this.n})`);
    if (this.n === this.buf.length) this.grow();
    this.buf[seq & this.mask] = value;
    this.n++;
    this.live++;
  }

  get(seq: number): T | undefined {
    const off = seq - this.base;
    if (off >= 0 && off < this.n) {
      const v = this.buf[seq & this.mask];
      if (v !== undefined) return v;
    }
    // A pinned seq may still lie inside the ring's range (as a hole), behind older live values.
    return this.pinned.size === 0 ? undefined : this.pinned.get(seq);
  }

  /** Removes seq's value. Returns whether there was one. */
  delete(seq: number): boolean {
    const off = seq - this.base;
    if (off >= 0 && off < this.n) {
      const i = seq & this.mask;
      if (this.buf[i] !== undefined) {
        this.buf[i] = undefined;
        this.live--;
        this.trim();
        return true;
      }
    }
    return this.pinned.delete(seq);
  }

  /** Moves seq's value out of the ring, so that it can outlive the values after it without holding the ring. */
  pin(seq: number): void {
    const off = seq - this.base;
    if (off < 0 || off >= this.n) return;
    const i = seq & this.mask;
    const v = this.buf[i];
    if (v === undefined) return;
    this.pinned.set(seq, v);
    this.buf[i] = undefined;
    this.live--;
    this.trim();
  }

  /** Advances the front past leaving values; shrinks the ring when it has become mostly empty. */
  private trim(): void {
    const buf = this.buf;
    while (this.n > 0 && buf[this.base & this.mask] === undefined) {
      this.base++;
      this.n--;
    }
    if (this.buf.length > 1024 && this.n * 4 < this.buf.length) this.resize(this.buf.length >> 1);
  }

  private grow(): void {
    this.resize(this.buf.length * 2);
  }

  private resize(cap: number): void {
    const next = new Array<T | undefined>(cap).fill(undefined);
    const mask = cap - 1;
    for (let k = 0; k < this.n; k++) {
      const seq = this.base + k;
      next[seq & mask] = this.buf[seq & this.mask];
    }
    this.buf = next;
    this.mask = mask;
  }
}
