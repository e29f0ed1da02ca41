import type { RequestContext } from './pipeline.js';
import type { Timers } from '../platform/timers.js';
import { IntrusiveList } from '../platform/intrusive-list.js';

/** A request's entry: a node of the in-flight list (no hash-table entry per request). */
class Deadline {
  prev: Deadline | null = null;
  next: Deadline | null = null;

  constructor(
    private readonly owner: RequestDeadlines,
    readonly ctx: RequestContext,
    /** When the request times out, on the `now()` clock (ms). */
    readonly at: number,
    /** The timeout it was given (ms), for the answer's message. */
    readonly ms: number,
  ) {}

  /** Takes the request out (its response closed). Idempotent. */
  clear(): void {
    this.owner.remove(this);
  }
}

/**
 * Deadlines of the requests in flight, swept by one timer instead of a timer (and a close listener) per
 * request. A request is added by the timeout stage and taken out by the request router when its response closes
 * (`ctx.deadline.clear()`); in between it is a node of one list, so both are a few pointer writes. The timer
 * runs only while something is in the list, every tenth of the shortest timeout (50 ms to 1 s), so a request
 * times out at most that much after its deadline.
 */
export class RequestDeadlines {
  private readonly list = new IntrusiveList<Deadline>();
  private timer: unknown = null;
  private tick = 1000;

  constructor(
    private readonly timers: Timers,
    private readonly now: () => number,
    private readonly onTimeout: (ctx: RequestContext, ms: number) => void,
  ) {}

  add(ctx: RequestContext, ms: number): void {
    const d = new Deadline(this, ctx, this.now() + ms, ms);
    this.list.append(d);
    ctx.deadline = d;
    const tick = Math.min(1000, Math.max(50, ms / 10));
    if (tick < this.tick) this.tick = tick;
    if (this.timer === null) this.timer = this.timers.setTimeout(this.sweep, this.tick);
  }

  /** Requests being watched. */
  size(): number {
    return this.list.size;
  }

  /** Takes a request out; a request is in the list exactly while its `ctx.deadline` is this node. */
  remove(d: Deadline): void {
    if (d.ctx.deadline !== d) return;
    d.ctx.deadline = undefined;
    this.list.unlink(d);
  }

  private readonly sweep = (): void => {
    this.timer = null;
    const t = this.now();
    // Every node is looked at: timeouts can change on reload, so the list is not in deadline order.
    for (let d = this.list.head; d !== null; ) {
      const next = d.next;
      if (d.at <= t) {
        this.remove(d);
        this.onTimeout(d.ctx, d.ms);
      }
      d = next;
    }
    if (this.list.size > 0) this.timer = this.timers.setTimeout(this.sweep, this.tick);
    else this.tick = 1000;
  };
}
