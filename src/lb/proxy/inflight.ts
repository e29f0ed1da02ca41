/** Something the proxy has in flight: a proxied request, an SSE stream or a WebSocket tunnel. */
export interface Tracked {
  kind: 'http' | 'sse' | 'ws';
  /** Last time bytes moved (ms, injected clock). */
  lastActivity: number;
  /** Close it after this long without bytes moving (0 = never). */
  idleTimeoutMs: number;
  /** Tear it down now (drain timeout, idle timeout, close()). */
  destroy(reason: string): void;
}

/** The set of in-flight exchanges: what graceful drain waits for and the idle sweep looks at. */
export class Inflight {
  private readonly items = new Set<Tracked>();
  private waiters: Array<() => void> = [];

  add(t: Tracked): void {
    this.items.add(t);
  }

  delete(t: Tracked): void {
    if (this.items.delete(t) && this.items.size === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  get size(): number {
    return this.items.size;
  }

  count(kind: Tracked['kind']): number {
    let n = 0;
    for (const t of this.items) if (t.kind === kind) n++;
    return n;
  }

  /** Resolves once nothing is in flight. */
  whenEmpty(): Promise<void> {
    if (this.items.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Destroys exchanges idle for longer than their idle timeout; returns how many. */
  sweepIdle(now: number): number {
    let n = 0;
    for (const t of [...this.items]) {
      if (t.idleTimeoutMs > 0 && now - t.lastActivity > t.idleTimeoutMs) {
        t.destroy('idle timeout');
        n++;
      }
    }
    return n;
  }

  destroyAll(reason: string): void {
    for (const t of [...this.items]) t.destroy(reason);
  }
}
