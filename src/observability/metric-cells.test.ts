import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellHistogram, deltaCell } from './metric-cells.js';

describe('metric cells', () => {
  it('export the same histogram series as prom-client observing the same values', async () => {
    const registry = new Registry();
    const buckets = [0.001, 0.01, 0.1];
    const cells = new CellHistogram({ name: 'h', help: 'h', labelNames: ['route'], buckets, registers: [registry] });
    const plain = new Histogram({ name: 'h', help: 'h', labelNames: ['route'], buckets, registers: [] });
    const values = [0.0005, 0.001, 0.002, 0.05, 0.5, 3];
    for (const v of values) {
      cells.cell({ route: 'machine' }).observe(v);
      plain.labels({ route: 'machine' }).observe(v);
    }
    cells.cell({ route: 'asset' }).observe(0.02);
    plain.labels({ route: 'asset' }).observe(0.02);
    const reference = new Registry();
    reference.registerMetric(plain);
    const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).sort();
    expect(lines(await registry.metrics())).toEqual(lines(await reference.metrics()));
    expect((await registry.getMetricsAsJSON())[0]!.values).toContainEqual(expect.objectContaining({ labels: { le: 0.01, route: 'machine' }, value: 3 }));
  });

  it('hand counter and gauge deltas to the metric when it is read, once', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'c', help: 'c', labelNames: ['code'], registers: [registry] });
    const gauge = new Gauge({ name: 'g', help: 'g', registers: [registry] });
    const ok = deltaCell(counter, { code: '200' });
    expect(deltaCell(counter, { code: '200' })).toBe(ok);
    ok.delta += 3;
    deltaCell(counter, { code: '404' }).delta++;
    const inFlight = deltaCell(gauge);
    inFlight.delta += 2;
    inFlight.delta--;
    const text = await registry.metrics();
    expect(text).toContain('c{code="200"} 3');
    expect(text).toContain('c{code="404"} 1');
    expect(text).toContain('g 1');
    ok.delta++;
    expect(await registry.metrics()).toContain('c{code="200"} 4');
  });
});
