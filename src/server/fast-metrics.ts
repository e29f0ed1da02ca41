import type { Registry } from 'prom-client';

/** What a prom-client registry reads from a metric at scrape time. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/**
 * A label-less Prometheus histogram for the hot path, registered on a prom-client registry.
 *
 * prom-client's Histogram allocates and hashes a label set on every observe(); at /route rates that cost more
 * than the routing decision it measures. This one keeps plain per-bucket counts (one comparison loop and three
 * additions per observation) and produces exactly what prom-client's histogram exposes
 * (`<name>_bucket{le="…"}` cumulative, `le="+Inf"`, `<name>_sum`, `<name>_count`) when scraped.
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
    // The registry only calls get() and reset(); it has no public type for metrics of its own kind.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
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
