// Issue 8 config: the three outputs as the issue writes them pass check-config, and the
// validated form resolves the naming clash (reduce's `topic` is the topic written; the topic
// read is from_topic, default kafka.topic) and turns scalars into lists.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../src/config/config';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');

describe('config: prometheus, split and reduce outputs', () => {
  it('check-config passes the issue\'s examples and summarises where each output writes', () => {
    const file = 'test/config/valid/platform.yaml';
    const r = spawnSync(process.execPath, [CLI, 'check-config', file], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('  outputs: prometheus (prometheus → http://127.0.0.1:9591/metrics, reads flows), split (split → topics customer-a, customer-b, flows-other, reads flows), reduce (reduce → topic flows-reduced, reads flows)');
  });

  it('reduce: topic is written, from_topic read; split and prometheus: scalars become lists, defaults filled', () => {
    const c = parseConfig([
      'kafka: { brokers: ["127.0.0.1:9092"], topic: flows, client_id: fg }',
      'outputs:',
      '  - { type: reduce, topic: flows-reduced, keep: [bytes] }',
      '  - { type: reduce, name: r2, from_topic: other-in, topic: flows-reduced-2, keep: [bytes] }',
      '  - { type: split, rules: [{ match: { addr: 10.1.0.0/16, in_if: 3 }, topic: customer-a }] }',
      '  - { type: prometheus, direction_by: { local_as: 64512 } }',
    ].join('\n'));
    const [r1, r2, s, p] = c.outputs;
    expect(r1).to.deep.include({ type: 'reduce', topic: 'flows', to_topic: 'flows-reduced', group_id: 'fg-reduce' });
    expect(r2).to.deep.include({ topic: 'other-in', to_topic: 'flows-reduced-2' });
    expect(s).to.deep.include({ topic: 'flows', rules: [{ match: { addr: ['10.1.0.0/16'], in_if: [3] }, topic: 'customer-a' }] });
    expect(p).to.deep.include({ listen: { host: '127.0.0.1', port: 9591 }, labels: ['exporter', 'src_as', 'dst_as'], direction_by: { local_as: [64512] }, max_series: 10000 });
  });
});
