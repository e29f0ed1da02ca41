import type { RequestContext } from '../pipeline/types.js';
import type { Timers } from '../../timers.js';

interface Deadline {
  /** When the request times out, on the `now()` clock (ms). */
  at: number;
  /** The timeout it was given (ms), for the answer's message. */
  ms: number;
}

/**
 * Deadlines of the requests in flight, swept by one timer instead of a timer (and a close listener) per
 * request. A request is added by the timeout stage and removed by the dispatcher when its response closes
 * (`ctx.deadlines.delete(ctx)`). The timer runs only while something is in the set, every tenth of the
 * shortest timeout (50 ms to 1 s), so a request times out at most that much after its deadline.
 */
export class RequestDeadlines {
  private readonly live = new Map<RequestContext, Deadline>();
  private timer: unknown = null;
  private tick = 1000;

  constructor(
    private readonly timers: Timers,
    private readonly now: () => number,
    private readonly onTimeout: (ctx: RequestContext, ms: number) => void,
  ) {}

  add(ctx: RequestContext, ms: number): void {
    this.live.set(ctx, { at: this.now() + ms, ms });
    ctx.deadlines = this.live;
    const tick = Math.min(1000, Math.max(50, ms / 10));
    if (tick < this.tick) this.tick = tick;
    if (this.timer === null) this.timer = this.timers.setTimeout(this.sweep, this.tick);
  }

  /** Requests being watched. */
  size(): number {
    return this.live.size;
  }

  private readonly sweep = (): void => {
    this.timer = null;
    const t = this.now();
    for (const [ctx, d] of this.live) {
      if (d.at > t) continue;
      this.live.delete(ctx);
      ctx.deadlines = undefined;
      this.onTimeout(ctx, d.ms);
    }
    if (this.live.size > 0) this.timer = this.timers.setTimeout(this.sweep, this.tick);
    else this.tick = 1000;
  };
}
