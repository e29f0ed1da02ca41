/**
 * The plain reservations of a ReservationBook (no sticky key, no GPU devices), kept in columns rather than
 * as one object each.
 *
 * Why: a tier that needs no resources is never bounded by capacity, so at 20 000 /route per second with the
 * default 120 s pending timeout millions of reservations are alive at once. As objects, each one survived two
 * young-generation collections (copied twice) and then weighed on every old-generation collection; here a
 * reservation is a row in typed arrays (numbers) plus three references to long-lived values (client id, tier
 * name, the backend's PendingState): no allocation per reservation, nothing for the collector to trace or
 * copy, and about 53 bytes per row instead of about 185.
 *
 * Layout: rows are indexed by the book's sequence number, in chunks of CHUNK rows. Plain reservations all
 * have the same timeout, so they expire in seq order: expiry pops rows from the front, and the front moves
 * past released rows as it meets them. A chunk the front has left is kept for reuse (one spare), so memory
 * follows the live window, not the history.
 *
 * Pure bookkeeping: the caller supplies `now`, and `debit` returns a row's resources to its PendingState.
 */
import type { PendingState } from './filter.js';

/** Rows per chunk. */
export const CHUNK = 4096;

/** Numbers per row in a chunk's Float64Array: createdAt, expiresAt, vcpu, mem, disk. */
const F = 5;

interface Chunk {
  /** CHUNK × F numbers (see F). */
  readonly num: Float64Array;
  /** 1 while the row holds a live reservation. */
  readonly live: Uint8Array;
  readonly clientId: (string | undefined)[];
  readonly tier: (string | undefined)[];
  readonly pending: (PendingState | undefined)[];
  /** Live rows in this chunk. */
  count: number;
}

/** A snapshot of one row (for listings and lookups; the hot path never builds one). */
export interface PlainReservation {
  readonly seq: number;
  readonly clientId: string;
  readonly tier: string;
  readonly pending: PendingState;
  readonly vcpu: number;
  readonly mem: number;
  readonly disk: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Returns a released or expired row's resources to its backend. */
export type Debit = (p: PendingState, vcpu: number, mem: number, disk: number) => void;

function newChunk(): Chunk {
  return {
    num: new Float64Array(CHUNK * F),
    live: new Uint8Array(CHUNK),
    clientId: new Array<string | undefined>(CHUNK).fill(undefined),
    tier: new Array<string | undefined>(CHUNK).fill(undefined),
    pending: new Array<PendingState | undefined>(CHUNK).fill(undefined),
    count: 0,
  };
}

export class ReservationRing {
  private chunks: Chunk[] = [];
  /** One emptied chunk kept for reuse, so that a steady window allocates nothing. */
  private spare: Chunk | null = null;
  /** The seq of chunks[0]'s first row. */
  private start = 0;
  /** Every row before this seq is dead (the front). */
  private head = 0;
  /** One past the highest seq pushed. */
  private end = 0;
  private count = 0;

  constructor(private readonly debit: Debit) {}

  /** Live rows. */
  get size(): number {
    return this.count;
  }

  /** Rows the chunks can hold (for tests of memory bounds). */
  get capacity(): number {
    return this.chunks.length * CHUNK;
  }

  /** Adds a row; `seq` must be above every seq pushed before (the book pushes consecutive seqs; a gap would be dead rows). */
  push(seq: number, clientId: string, tier: string, pending: PendingState, vcpu: number, mem: number, disk: number, createdAt: number, expiresAt: number): void {
    if (this.count === 0) this.restartAt(seq);
    else if (seq < this.end) throw new Error(`ReservationRing: seq ${seq} out of order (expected ${this.end} or above)`);
    let off = seq - this.start;
    while (off >= this.chunks.length * CHUNK) this.chunks.push(this.takeChunk());
    const c = this.chunks[(off / CHUNK) | 0]!;
    off %= CHUNK;
    const n = off * F;
    c.num[n] = createdAt;
    c.num[n + 1] = expiresAt;
    c.num[n + 2] = vcpu;
    c.num[n + 3] = mem;
    c.num[n + 4] = disk;
    c.clientId[off] = clientId;
    c.tier[off] = tier;
    c.pending[off] = pending;
    c.live[off] = 1;
    c.count++;
    this.count++;
    this.end = seq + 1;
  }

  /** A snapshot of a live row, or undefined. */
  get(seq: number): PlainReservation | undefined {
    const c = this.chunkOf(seq);
    if (c === undefined) return undefined;
    const off = (seq - this.start) % CHUNK;
    return c.live[off] === 1 ? snapshot(c, off, seq) : undefined;
  }

  /** Removes a live row, returning its resources (debit). Returns whether there was one. */
  delete(seq: number): boolean {
    const c = this.chunkOf(seq);
    if (c === undefined) return false;
    const off = (seq - this.start) % CHUNK;
    if (c.live[off] !== 1) return false;
    this.kill(c, off);
    if (seq === this.head) this.advance();
    return true;
  }

  /** The expiry of the row at the front (the earliest, timeouts being equal), or Infinity when empty. */
  headExpiry(): number {
    if (this.count === 0) return Infinity;
    const c = this.chunks[0]!;
    return c.num[((this.head - this.start) % CHUNK) * F + 1]!;
  }

  /** Removes rows from the front while they expire at or before `now`. Returns how many. */
  sweep(now: number): number {
    let n = 0;
    while (this.count > 0) {
      const c = this.chunks[0]!;
      const off = (this.head - this.start) % CHUNK;
      if (c.num[off * F + 1]! > now) break;
      this.kill(c, off);
      this.advance();
      n++;
    }
    return n;
  }

  /** Removes every live row whose PendingState is `pending` (all rows when omitted). Returns how many. */
  clear(pending?: PendingState): number {
    let n = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.count === 0) continue;
      for (let off = 0; off < CHUNK; off++) {
        if (c.live[off] === 1 && (pending === undefined || c.pending[off] === pending)) {
          this.kill(c, off);
          n++;
        }
      }
    }
    if (n > 0) this.advance();
    return n;
  }

  /** The expiry of the earliest live row held on one of `on` (rows expire in seq order), or Infinity. */
  firstExpiryOn(on: ReadonlySet<PendingState>): number {
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.count === 0) continue;
      for (let off = 0; off < CHUNK; off++) if (c.live[off] === 1 && on.has(c.pending[off]!)) return c.num[off * F + 1]!;
    }
    return Infinity;
  }

  /** Snapshots of the live rows, in seq order. */
  list(): PlainReservation[] {
    const out: PlainReservation[] = [];
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.count === 0) continue;
      for (let off = 0; off < CHUNK; off++) if (c.live[off] === 1) out.push(snapshot(c, off, this.start + i * CHUNK + off));
    }
    return out;
  }

  private chunkOf(seq: number): Chunk | undefined {
    if (seq < this.head || seq >= this.end) return undefined;
    return this.chunks[((seq - this.start) / CHUNK) | 0];
  }

  private kill(c: Chunk, off: number): void {
    const n = off * F;
    this.debit(c.pending[off]!, c.num[n + 2]!, c.num[n + 3]!, c.num[n + 4]!);
    c.live[off] = 0;
    c.clientId[off] = undefined;
    c.tier[off] = undefined;
    c.pending[off] = undefined;
    c.count--;
    this.count--;
  }

  /** Moves the front past dead rows, handing chunks it leaves behind to `spare`. */
  private advance(): void {
    if (this.count === 0) {
      this.restartAt(this.end);
      return;
    }
    for (;;) {
      const c = this.chunks[0]!;
      if (c.count === 0) {
        // Nothing live in the front chunk: skip it whole.
        this.chunks.shift();
        this.release(c);
        this.start += CHUNK;
        this.head = this.start;
        continue;
      }
      let off = (this.head - this.start) % CHUNK;
      while (c.live[off] !== 1) off++; // c.count > 0: a live row lies ahead in this chunk
      this.head = this.start + off;
      return;
    }
  }

  /** Empties the ring and starts it at `seq` (an empty ring keeps at most one chunk, as the spare). */
  private restartAt(seq: number): void {
    for (const c of this.chunks) this.release(c);
    this.chunks.length = 0;
    this.start = seq;
    this.head = seq;
    this.end = seq;
  }

  /** A chunk left behind: all its rows are dead (live 0, references dropped), so it can be reused as is. */
  private release(c: Chunk): void {
    if (this.spare === null) this.spare = c;
  }

  private takeChunk(): Chunk {
    const c = this.spare;
    if (c === null) return newChunk();
    this.spare = null;
    return c;
  }
}

function snapshot(c: Chunk, off: number, seq: number): PlainReservation {
  const n = off * F;
  return {
    seq,
    clientId: c.clientId[off]!,
    tier: c.tier[off]!,
    pending: c.pending[off]!,
    createdAt: c.num[n]!,
    expiresAt: c.num[n + 1]!,
    vcpu: c.num[n + 2]!,
    mem: c.num[n + 3]!,
    disk: c.num[n + 4]!,
  };
}
