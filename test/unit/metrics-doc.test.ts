// docs/METRICS.md is the operator's contract for every metric name. Two ways a metric can exist
// without being documented, both checked: a `flowgate_*` name written in src/ (outputs, state,
// converters), and a name the gateway's registry actually serves (built from pieces, or
// prom-client's default process metrics, which the doc covers as `flowgate_process_*` and
// `flowgate_nodejs_*`).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import { registerConverterMetrics } from '../../src/metrics/converter-metrics';

const ROOT = path.resolve(__dirname, '../../..');
const DOC = readFileSync(path.join(ROOT, 'docs/METRICS.md'), 'utf8');
const WILDCARDS = ['flowgate_process_', 'flowgate_nodejs_'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const documented = (name: string): boolean =>
  DOC.includes(`\`${name}\``) || DOC.includes(`\`${name}{`) || WILDCARDS.some((w) => name.startsWith(w) && DOC.includes(`\`${w}*\``));

describe('docs/METRICS.md names every metric', () => {
  it('every flowgate_* name in src/', () => {
    const names = new Set<string>();
    for (const f of sourceFiles(path.join(ROOT, 'src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bflowgate_[a-z0-9_]*[a-z0-9]\b/g)) names.add(m[0]);
    }
    // Prefix-only mentions in comments ("flowgate_process_*") are not names.
    const missing = [...names].filter((n) => !WILDCARDS.some((w) => `${n}_` === w) && !documented(n)).sort();
    expect(names.size).to.be.greaterThan(40);
    expect(missing).to.deep.equal([]);
  });

  it('every name the gateway registry serves (with converter metrics registered)', async () => {
    const m = new GatewayMetrics();
    registerConverterMetrics(m.registry, [{ name: 'csv', type: 'csv', counts: () => ({ messages: 0, records: 0, malformed: 0, committed: 0, written: 0, durable: 0 }) }]);
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names).to.include('flowgate_records_decoded_total');
    expect(names.filter((n) => !documented(n)).sort()).to.deep.equal([]);
  });
});
