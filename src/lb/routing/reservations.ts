/**
 * Live reservations: pending resources that count against the filter (never the score).
 *
 * - Each reservation adds its tier's vCPU/memory/disk and specific GPU devices to its backend's
 *   PendingState; releasing or expiring it subtracts them again.
 * - Two kinds, by what they carry:
 *   - plain (no sticky key, no GPU devices), the bulk: rows in a ReservationRing, by sequence number, with
 *     no object per reservation. A tier that needs no resources is never bounded by capacity, so at 20 000
 *     /route per second with the default 120 s timeout millions are alive at once. Id: the book's random
 *     prefix plus the seq in base 36, built only when asked for.
 *   - sticky or GPU: one object each (bounded by sessions and by GPU devices), by id (prefix, "_", seq in
 *     base 36), in a list ordered by expiry.
 * - Expiry: `expiresAt = now + timeout`. Timeouts are constant, so plain rows expire in seq order and the
 *   object list stays ordered by appending; a refresh moves an object to the list's tail. `sweep(now)` pops
 *   expired ones from the fronts, O(1) per reservation.
 * - De-duplication: at most one reservation per (sticky_id, tier) key.
 * Pure bookkeeping: the caller supplies `now` and decides what to reserve.
 */
import { IntrusiveList } from '../../platform/intrusive-list.js';
import type { Credit, PendingState } from './filter.js';
import { ReservationRing, type PlainReservation } from './reservation-ring.js';
import type { ReservationView } from './types.js';

/** A sticky or GPU reservation (plain ones are rows, not objects). */
export interface Reservation extends Credit {
  readonly id: string;
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
    readonly id: string,
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

/** Adds resources to a backend's PendingState. */
function credit(p: PendingState, vcpu: number, mem: number, disk: number, gpus: readonly number[]): void {
  p.count++;
  p.cpu += vcpu;
  p.mem += mem;
  p.disk += disk;
  holdGpus(p, gpus);
}

/** Returns resources to a backend's PendingState; exact zero once it holds no reservation. */
function debit(p: PendingState, vcpu: number, mem: number, disk: number, gpus: readonly number[]): void {
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
  p.cpu -= vcpu;
  p.mem -= mem;
  p.disk -= disk;
  releaseGpus(p, gpus);
}

/** Counts one more live reservation holding each of `devices`. */
function holdGpus(p: PendingState, devices: readonly number[]): void {
  for (const d of devices) p.gpu.set(d, (p.gpu.get(d) ?? 0) + 1);
}

/** Counts one live reservation fewer holding each of `devices`. */
function releaseGpus(p: PendingState, devices: readonly number[]): void {
  for (const d of devices) {
    const c = (p.gpu.get(d) ?? 0) - 1;
    if (c <= 0) p.gpu.delete(d);
    else p.gpu.set(d, c);
  }
}

/** The device list of every reservation without GPUs: one shared frozen array, not a new one each. */
export const NO_GPUS: readonly number[] = Object.freeze([]);

export class ReservationBook {
  /** Plain reservations, by seq. */
  private readonly plain = new ReservationRing((p, vcpu, mem, disk) => debit(p, vcpu, mem, disk, NO_GPUS));
  /** Sticky and GPU reservations, by id, and in expiry order (byExpiry). */
  private readonly objects = new Map<string, Reservation>();
  private readonly byKey = new Map<string, Reservation>();
  private readonly byExpiry = new IntrusiveList<Reservation>();
  private plainSeq = 0;
  private objectSeq = 0;

  constructor(
    private timeoutMs: number,
    private readonly idPrefix: string,
  ) {}

  get size(): number {
    return this.plain.size + this.objects.size;
  }

  get timeout(): number {
    return this.timeoutMs;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  /** The public id of a plain reservation's seq (what `add` returned). */
  idOf(seq: number): string {
    return this.idPrefix + seq.toString(36);
  }

  /** A live reservation, or undefined for anything else (also ids of another book and non-canonical spellings). */
  get(id: string): ReservationView | undefined {
    const obj = this.objects.get(id);
    if (obj !== undefined) return reservationView(obj);
    const seq = this.seqOf(id);
    const row = seq === undefined ? undefined : this.plain.get(seq);
    return row === undefined ? undefined : this.plainView(row);
  }

  /** The seq behind a plain id this book issued, or undefined for anything else (also non-canonical spellings). */
  private seqOf(id: string): number | undefined {
    const prefix = this.idPrefix;
    if (id.length <= prefix.length || id.length > prefix.length + 11 || !id.startsWith(prefix)) return undefined;
    const tail = id.slice(prefix.length);
    const seq = parseInt(tail, 36);
    return seq > 0 && seq <= this.plainSeq && seq.toString(36) === tail ? seq : undefined;
  }

  byStickyKey(key: string): Reservation | undefined {
    return this.byKey.get(key);
  }

  /** The earliest expiry of a live reservation, or Infinity. */
  nextExpiry(): number {
    const e = this.plain.headExpiry();
    const first = this.byExpiry.head;
    return first !== null && first.expiresAt < e ? first.expiresAt : e;
  }

  /** The earliest expiry of a live reservation held on one of `on` (backends' PendingStates), or Infinity. */
  earliestExpiryOn(on: ReadonlySet<PendingState>): number {
    const e = this.plain.firstExpiryOn(on);
    for (let r = this.byExpiry.head; r !== null && r.expiresAt < e; r = r.next) {
      if (on.has(r.pending)) return r.expiresAt;
    }
    return e;
  }

  /** Expires every reservation with expiresAt ≤ now. Returns how many expired. */
  sweep(now: number): number {
    let n = this.plain.sweep(now);
    while (this.byExpiry.head !== null && this.byExpiry.head.expiresAt <= now) {
      this.drop(this.byExpiry.head);
      n++;
    }
    return n;
  }

  /**
   * Reserves, and returns the new reservation's id. A reservation with a sticky key replaces the key's
   * previous one.
   */
  add(r: NewReservation, now: number): string {
    const p = r.pending;
    if (r.key === null && r.gpuDevices.length === 0) {
      credit(p, r.vcpu, r.mem, r.disk, NO_GPUS);
      const seq = ++this.plainSeq;
      this.plain.push(seq, r.clientId, r.tier, p, r.vcpu, r.mem, r.disk, now, now + this.timeoutMs);
      return this.idOf(seq);
    }
    if (r.key !== null) {
      const old = this.byKey.get(r.key);
      if (old !== undefined) this.drop(old);
    }
    const res = new LiveReservation(`${this.idPrefix}_${(++this.objectSeq).toString(36)}`, r, now, this.timeoutMs);
    if (res.key !== null) this.byKey.set(res.key, res);
    credit(p, res.vcpu, res.mem, res.disk, res.gpuDevices);
    this.objects.set(res.id, res);
    this.byExpiry.append(res);
    return res.id;
  }

  /** Extends a live sticky or GPU reservation to now + timeout. */
  refresh(res: Reservation, now: number): void {
    res.expiresAt = now + this.timeoutMs;
    this.byExpiry.unlink(res);
    this.byExpiry.append(res);
  }

  /** Moves a live reservation to other GPU devices of the same backend. */
  retargetGpus(res: Reservation, devices: readonly number[]): void {
    releaseGpus(res.pending, res.gpuDevices);
    res.gpuDevices = devices;
    holdGpus(res.pending, devices);
  }

  /** Releases a live reservation. false when unknown, already released or expired. */
  release(id: string): boolean {
    const res = this.objects.get(id);
    if (res !== undefined) {
      this.drop(res);
      return true;
    }
    const seq = this.seqOf(id);
    return seq !== undefined && this.plain.delete(seq);
  }

  /** Drops every reservation on `pending`'s backend (all reservations when omitted). Returns how many. */
  clear(pending?: PendingState): number {
    let n = this.plain.clear(pending);
    for (let r = this.byExpiry.head; r !== null; ) {
      const next = r.next;
      if (pending === undefined || r.pending === pending) {
        this.drop(r);
        n++;
      }
      r = next;
    }
    return n;
  }

  /** Every live reservation, by expiry (then by when it was made). */
  list(): ReservationView[] {
    const views = this.plain.list().map((row) => this.plainView(row));
    for (let r = this.byExpiry.head; r !== null; r = r.next) views.push(reservationView(r));
    return views.sort((a, b) => a.expiresAt - b.expiresAt || a.createdAt - b.createdAt);
  }

  private plainView(row: PlainReservation): ReservationView {
    return {
      id: this.idOf(row.seq),
      clientId: row.clientId,
      tier: row.tier,
      vcpu: row.vcpu,
      memoryGb: row.mem,
      storageGb: row.disk,
      gpuDeviceIds: [],
      stickyId: null,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    };
  }

  private drop(res: Reservation): void {
    this.byExpiry.unlink(res);
    this.objects.delete(res.id);
    if (res.key !== null && this.byKey.get(res.key) === res) this.byKey.delete(res.key);
    debit(res.pending, res.vcpu, res.mem, res.disk, res.gpuDevices);
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
