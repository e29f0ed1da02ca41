/**
 * Live reservations: pending resources that count against the filter (never the score).
 *
 * - Each reservation adds its tier's vCPU/memory/disk and specific GPU devices to its backend's
 *   PendingState; releasing or expiring it subtracts them again.
 * - Expiry: `expiresAt = now + timeout`. Reservations sit in an intrusive list ordered by expiry
 *   (timeouts are constant, so appending keeps the order); `sweep(now)` pops expired ones from the
 *   head, O(1) per reservation. A refresh moves a reservation to the tail.
 * - De-duplication: at most one reservation per (sticky_id, tier) key.
 * - Lookup by id: the id is the book's random prefix plus a sequence number in base 36; reservations are
 *   kept by that number in a SeqIndex (a ring), and the id string is built only when asked for. A tier
 *   that needs no resources is never bounded by capacity, so at 20 000 /route per second with the
 *   default 120 s timeout millions are alive at once: each costs one object, not an object, a string
 *   and a hash-table entry.
 * Pure bookkeeping: the caller supplies `now` and decides what to reserve.
 */
import type { Credit, PendingState } from './filter.js';
import { SeqIndex } from './seq-index.js';
import type { ReservationView } from './types.js';

export interface Reservation extends Credit {
  /** The public id (book prefix + seq in base 36), built on demand: only `seq` is kept. */
  readonly id: string;
  /** The book-wide sequence number behind the id (the key reservations are stored under). */
  readonly seq: number;
  readonly clientId: string;
  readonly tier: string;
  readonly vcpu: number;
  readonly mem: number;
  readonly disk: number;
  gpuDevices: readonly number[];
  readonly stickyId: string | null;
  readonly key: string | null;
  readonly pending: PendingState;
  readonly createdAt: number;
  expiresAt: number;
  prev: Reservation | null;
  next: Reservation | null;
}

/** One live reservation: kept under its seq; the id string is built only when somebody asks for it. */
class LiveReservation implements Reservation {
  gpuDevices: readonly number[];
  expiresAt: number;
  prev: Reservation | null = null;
  next: Reservation | null = null;
  readonly clientId: string;
  readonly tier: string;
  readonly vcpu: number;
  readonly mem: number;
  readonly disk: number;
  readonly stickyId: string | null;
  readonly key: string | null;
  readonly pending: PendingState;

  constructor(
    private readonly prefix: string,
    readonly seq: number,
    r: NewReservation,
    readonly createdAt: number,
    timeoutMs: number,
  ) {
    this.clientId = r.clientId;
    this.tier = r.tier;
    this.vcpu = r.vcpu;
    this.mem = r.mem;
    this.disk = r.disk;
    this.gpuDevices = r.gpuDevices;
    this.stickyId = r.stickyId;
    this.key = r.key;
    this.pending = r.pending;
    this.expiresAt = createdAt + timeoutMs;
  }

  get id(): string {
    return this.prefix + this.seq.toString(36);
  }
}

export interface NewReservation {
  clientId: string;
  tier: string;
  vcpu: number;
  mem: number;
  disk: number;
  gpuDevices: readonly number[];
  stickyId: string | null;
  key: string | null;
  pending: PendingState;
}

/** The dedupe key of a (sticky_id, tier) pair. */
export function stickyKey(stickyId: string, tier: string): string {
  return `${tier}\u0000${stickyId}`;
}

export class ReservationBook {
  /** Live reservations by seq: no id string to build, hash and keep per reservation, and no hash table. */
  private readonly bySeq = new SeqIndex<Reservation>();
  private readonly byKey = new Map<string, Reservation>();
  private head: Reservation | null = null;
  private tail: Reservation | null = null;
  private seq = 0;

  constructor(
    private timeoutMs: number,
    private readonly idPrefix: string,
  ) {}

  get size(): number {
    return this.bySeq.size;
  }

  get timeout(): number {
    return this.timeoutMs;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  get(id: string): Reservation | undefined {
    const seq = this.seqOf(id);
    return seq === undefined ? undefined : this.bySeq.get(seq);
  }

  /** The seq behind an id this book issued, or undefined for anything else (also non-canonical spellings). */
  private seqOf(id: string): number | undefined {
    const prefix = this.idPrefix;
    if (id.length <= prefix.length || id.length > prefix.length + 11 || !id.startsWith(prefix)) return undefined;
    const tail = id.slice(prefix.length);
    const seq = parseInt(tail, 36);
    return seq > 0 && seq <= this.seq && seq.toString(36) === tail ? seq : undefined;
  }

  byStickyKey(key: string): Reservation | undefined {
    return this.byKey.get(key);
  }

  /** The earliest expiry of a live reservation, or Infinity. */
  nextExpiry(): number {
    return this.head === null ? Infinity : this.head.expiresAt;
  }

  /** Expires every reservation with expiresAt ≤ now. Returns how many expired. */
  sweep(now: number): number {
    let n = 0;
    while (this.head !== null && this.head.expiresAt <= now) {
      this.drop(this.head);
      n++;
    }
    return n;
  }

  add(r: NewReservation, now: number): Reservation {
    const res = new LiveReservation(this.idPrefix, ++this.seq, r, now, this.timeoutMs);
    if (res.key !== null) {
      const old = this.byKey.get(res.key);
      if (old !== undefined) this.drop(old);
      this.byKey.set(res.key, res);
    }
    const p = res.pending;
    p.count++;
    p.cpu += res.vcpu;
    p.mem += res.mem;
    p.disk += res.disk;
    for (const d of res.gpuDevices) p.gpu.set(d, (p.gpu.get(d) ?? 0) + 1);
    this.bySeq.push(res.seq, res);
    this.append(res);
    return res;
  }

  /** Extends a live reservation to now + timeout. */
  refresh(res: Reservation, now: number): void {
    res.expiresAt = now + this.timeoutMs;
    // It now outlives reservations made after it: out of the index's ring, so that it never holds the ring.
    this.bySeq.pin(res.seq);
    this.unlink(res);
    this.append(res);
  }

  /** Moves a live reservation to other GPU devices of the same backend. */
  retargetGpus(res: Reservation, devices: readonly number[]): void {
    const p = res.pending;
    for (const d of res.gpuDevices) {
      const c = (p.gpu.get(d) ?? 0) - 1;
      if (c <= 0) p.gpu.delete(d);
      else p.gpu.set(d, c);
    }
    res.gpuDevices = devices;
    for (const d of devices) p.gpu.set(d, (p.gpu.get(d) ?? 0) + 1);
  }

  release(id: string): Reservation | undefined {
    const res = this.get(id);
    if (res !== undefined) this.drop(res);
    return res;
  }

  /** Drops every reservation matching `pred` (all when omitted). Returns how many. */
  clear(pred?: (r: Reservation) => boolean): number {
    let n = 0;
    for (let r = this.head; r !== null; ) {
      const next = r.next;
      if (pred === undefined || pred(r)) {
        this.drop(r);
        n++;
      }
      r = next;
    }
    return n;
  }

  *[Symbol.iterator](): IterableIterator<Reservation> {
    for (let r = this.head; r !== null; r = r.next) yield r;
  }

  private drop(res: Reservation): void {
    this.unlink(res);
    this.bySeq.delete(res.seq);
    if (res.key !== null && this.byKey.get(res.key) === res) this.byKey.delete(res.key);
    const p = res.pending;
    p.count--;
    if (p.count <= 0) {
      // Exact zero, so that float residue never blocks a request at an exact boundary.
      p.count = 0;
      p.cpu = 0;
      p.mem = 0;
      p.disk = 0;
      p.gpu.clear();
      return;
    }
    p.cpu -= res.vcpu;
    p.mem -= res.mem;
    p.disk -= res.disk;
    for (const d of res.gpuDevices) {
      const c = (p.gpu.get(d) ?? 0) - 1;
      if (c <= 0) p.gpu.delete(d);
      else p.gpu.set(d, c);
    }
  }

  private append(res: Reservation): void {
    res.prev = this.tail;
    res.next = null;
    if (this.tail === null) this.head = res;
    else this.tail.next = res;
    this.tail = res;
  }

  private unlink(res: Reservation): void {
    if (res.prev === null) this.head = res.next;
    else res.prev.next = res.next;
    if (res.next === null) this.tail = res.prev;
    else res.next.prev = res.prev;
    res.prev = null;
    res.next = null;
  }
}

export function reservationView(r: Reservation): ReservationView {
  return {
    id: r.id,
    clientId: r.clientId,
    tier: r.tier,
    vcpu: r.vcpu,
    memoryGb: r.mem,
    storageGb: r.disk,
    gpuDeviceIds: [...r.gpuDevices],
    stickyId: r.stickyId,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
  };
}
