// Metric children for hot paths. prom-client validates and hashes a child's labels on every
// update (even a child from .labels()), which costs about as much as a boot request's whole
// answer. A cell is resolved once per label set, updated with plain arithmetic, and handed to
// prom-client when the registry is read (a scrape): counters and gauges through their collect
// hook, histograms through their own export.
import { Histogram, type Counter, type Gauge, type HistogramConfiguration, type LabelValues } from 'prom-client';
import { byCodeUnits } from '../order.js';

/** A counter or gauge child: add to `delta`; the metric receives it at the next scrape. */
export interface DeltaCell {
  delta: number;
}

type DeltaMetric<T extends string> = Counter<T> | Gauge<T>;

interface DeltaCells {
  byKey: Map<string, { labels: LabelValues<string>; cell: DeltaCell }>;
}

const deltaCells = new WeakMap<object, DeltaCells>();

/**
 * The cell of `metric` for `labels` (the same cell for the same labels, so every user of the
 * process-wide metric shares it). Counter deltas must not be negative; gauge deltas may be.
 */
export function deltaCell<T extends string>(metric: DeltaMetric<T>, labels: LabelValues<T> = {}): DeltaCell {
  let cells = deltaCells.get(metric);
  if (!cells) {
    const created: DeltaCells = { byKey: new Map() };
    cells = created;
    deltaCells.set(metric, created);
    const hooked = metric as unknown as { collect?: () => unknown };
    const previous = hooked.collect;
    hooked.collect = function collectCells(this: unknown) {
      for (const { labels: l, cell } of created.byKey.values()) {
        if (cell.delta === 0) continue;
        (metric as Gauge<string>).inc(l, cell.delta);
        cell.delta = 0;
      }
      return previous?.call(this);
    };
  }
  const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => byCodeUnits(a, b)));
  let entry = cells.byKey.get(key);
  if (!entry) cells.byKey.set(key, (entry = { labels: { ...labels }, cell: { delta: 0 } }));
  return entry.cell;
}

/** One label set of a CellHistogram: bucket counts, sum and count as plain numbers. */
export class HistogramCell {
  /** Per bucket (not cumulative); the last slot is above the highest bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[], readonly labels: LabelValues<string>) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A prom-client Histogram whose children are HistogramCells. It exports the same series as a
 * Histogram (`_bucket{le}` cumulative, `_sum`, `_count`), from its cells and from anything
 * observed through the ordinary API.
 */
export class CellHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[];
  private readonly cells = new Map<string, HistogramCell>();
  private readonly metricName: string;

  constructor(config: HistogramConfiguration<T> & { buckets: number[] }) {
    super(config);
    this.metricName = config.name;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  cell(labels: LabelValues<T>): HistogramCell {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => byCodeUnits(a, b)));
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new HistogramCell(this.bounds, { ...labels })));
    return cell;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    const cells = this.cells as Map<string, HistogramCell> | undefined;
    if (!cells) return;
    for (const cell of cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }

  /** prom-client's registry reads this for the text format, and get() builds on it. */
  async getForPromString(): Promise<{ name: string; help: string; type: unknown; values: HistogramValue[]; aggregator: unknown }> {
    const base = await (Histogram.prototype as unknown as { getForPromString(this: Histogram<T>): Promise<{ name: string; help: string; type: unknown; values: HistogramValue[]; aggregator: unknown }> }).getForPromString.call(this);
    const name = this.metricName;
    const values: HistogramValue[] = [];
    for (const cell of this.cells.values()) {
      if (cell.count === 0) continue;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += cell.counts[i]!;
        values.push({ labels: { le }, sharedLabels: cell.labels, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: cell.labels, value: cell.count, metricName: `${name}_bucket` },
        { labels: {}, sharedLabels: cell.labels, value: cell.sum, metricName: `${name}_sum` },
        { labels: {}, sharedLabels: cell.labels, value: cell.count, metricName: `${name}_count` },
      );
    }
    return { ...base, values: [...base.values, ...values] };
  }
}

interface HistogramValue {
  labels: Record<string, string | number>;
  sharedLabels: LabelValues<string>;
  value: number;
  metricName: string;
}
