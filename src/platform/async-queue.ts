/**
 * An unbounded async queue: producers push, one consumer iterates; `end(err?)` finishes the iteration.
 * The outgoing side of a bidirectional stream, on both ends (agent worker and worker API).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private failer: ((e: unknown) => void) | null = null;
  private ended = false;
  private error: unknown = null;

  get closed(): boolean {
    return this.ended;
  }

  get length(): number {
    return this.items.length;
  }

  /** Returns false (and drops the item) once ended. */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.failer = null;
      w({ value: item, done: false });
    } else {
      this.items.push(item);
    }
    return true;
  }

  /** Ends the queue: the consumer gets the remaining items, then `done` (or `err` thrown). */
  end(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err ?? null;
    if (this.waiter) {
      const w = this.waiter;
      const f = this.failer;
      this.waiter = null;
      this.failer = null;
      if (this.error !== null && f) f(this.error);
      else w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return this.error !== null ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.waiter = resolve;
          this.failer = reject;
        });
      },
      return: () => {
        this.end();
        this.items = [];
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (err?: unknown) => {
        this.end();
        this.items = [];
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      },
    };
  }
}
