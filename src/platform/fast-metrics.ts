import type { Registry } from 'prom-client';

/** What a prom-client registry reads from a metric at scrape time. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/*
 * Metrics for the request hot path, registered on a prom-client registry next to ordinary prom-client metrics.
 *
 * prom-client allocates and hashes a label set on every inc()/observe(), even through a cached labels() child;
 * at /route rates that cost more than the routing decision itself. These keep plain numbers and produce exactly
 * the exposition prom-client would when scraped (the tests compare both).
 */

/** Registers a metric of our own: the registry only calls get() and reset() and has no public type for them. */
function register(registry: Registry, metric: object): void {
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** One counter series: `inc()` is an addition. */
export interface CounterCell {
  inc(by?: number): void;
}

class Cell implements CounterCell {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** A labelled Prometheus counter whose series are objects the caller keeps (`labels(...)` once, `inc()` often). */
export class FastCounter<L extends string> {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    register(registry, this);
  }

  /** The series for these label values (created at 0 on first use). */
  labels(values: Record<L, string>): CounterCell {
    const key = this.labelNames.map((n) => values[n]).join('\u0000');
    let cell = this.cells.get(key);
    if (cell === undefined) {
      const labels: Record<string, string> = {};
      for (const n of this.labelNames) labels[n] = values[n];
      cell = new Cell(labels);
      this.cells.set(key, cell);
    }
    return cell;
  }

  reset(): void {
    this.cells.clear();
  }

  get(): { name: string; help: string; type: 'counter'; aggregator: 'sum'; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const c of this.cells.values()) values.push({ value: c.value, labels: c.labels, metricName: this.name });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/**
 * A label-less Prometheus histogram: plain per-bucket counts (one comparison loop and three additions per
 * observation), exposed as prom-client's histogram is (`<name>_bucket{le="…"}` cumulative, `le="+Inf"`,
 * `<name>_sum`, `<name>_count`).
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    for (let i = 1; i < upperBounds.length; i++) {
      if (!(upperBounds[i]! > upperBounds[i - 1]!)) throw new RangeError(`${name}: buckets must increase`);
    }
    this.counts = new Float64Array(upperBounds.length);
    register(registry, this);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.upperBounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]! += 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValue[] } {
    const values: MetricValue[] = [];
    let acc = 0;
    for (let i = 0; i < this.upperBounds.length; i++) {
      acc += this.counts[i]!;
      values.push({ value: acc, labels: { le: this.upperBounds[i]! }, metricName: `${this.name}_bucket` });
    }
    values.push({ value: this.count, labels: { le: '+Inf' }, metricName: `${this.name}_bucket` });
    values.push({ value: this.sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.count, labels: {}, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
