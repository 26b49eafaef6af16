// Per-exporter limits through the running gateway: an exporter over
// decoder.max_records_per_second_per_exporter is throttled (its datagrams dropped undecoded)
// and counted; an exporter over its template or pending limits is refused and counted; every
// event is counted per exporter and reason in flowgate_exporter_limited_total, and another
// exporter sending at the same time loses nothing.

import { expect } from 'chai';
import { netflow5, netflow9, NF5_DEFAULT_RECORD, type TemplateDef } from '../support/datagram-builders';
import { metricSum } from '../support/gateway-harness';
import { Sender, settle, startRig, type Rig } from '../support/hardening-rig';

const RATE = 1000;
const v5 = (n: number): Buffer => netflow5({ records: Array.from({ length: n }, () => NF5_DEFAULT_RECORD) }).bytes;

describe('hardening: per-exporter limits', function () {
  this.timeout(60_000);
  let rig: Rig | undefined;
  const senders: Sender[] = [];
  after(async () => {
    for (const s of senders.splice(0)) await s.close();
    await rig?.stop();
  });

  it('an exporter over its limits is throttled and counted per exporter and reason; another loses nothing', async () => {
    rig = await startRig([
      'listeners: [{ listen: "127.0.0.1:0" }]',
      `decoder: { max_records_per_second_per_exporter: ${RATE}, max_templates_per_exporter: 2, pending_max_bytes_per_exporter: 100 }`,
      'summary_interval_seconds: 0',
      'log: { level: warn }',
    ].join('\n'));
    const port = rig.port();
    const flood = await Sender.bind('127.0.0.2');
    const calm = await Sender.bind('127.0.0.3');
    const greedy = await Sender.bind('127.0.0.4');
    senders.push(flood, calm, greedy);

    // 200 datagrams x 30 records from the flood exporter (6,000 records, six seconds' worth at
    // once), 20 x 30 from the calm one (600, inside its one-second burst), interleaved.
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      await flood.send(v5(30), port, '127.0.0.1');
      sent++;
      if (i % 10 === 0) {
        await calm.send(v5(30), port, '127.0.0.1');
        sent++;
      }
      if (sent % 40 === 0) await settle(rig, sent);
    }
    // The greedy exporter: three templates (limit 2) and 2 x 60 bytes of data for templates it never sends (limit 100 bytes).
    const t = (id: number): TemplateDef => ({ id, fields: [{ id: 1, length: 4 }, { id: 2, length: 4 }] });
    await greedy.send(netflow9({ sourceId: 1, flowsets: [{ kind: 'template', templates: [t(256), t(257), t(258)] }] }).bytes, port, '127.0.0.1');
    await greedy.send(netflow9({ sourceId: 1, sequence: 1, flowsets: [{ kind: 'raw', id: 400, body: Buffer.alloc(60) }, { kind: 'raw', id: 401, body: Buffer.alloc(60) }] }).bytes, port, '127.0.0.1');
    sent += 2;
    await settle(rig, sent);

    const text = await rig.metrics();
    const m = (name: string, labels: Record<string, string>): number => metricSum(text, name, labels);
    const limited = (exporter: string, reason: string): number => m('flowgate_exporter_limited_total', { exporter, reason });
    const floodDecoded = m('flowgate_records_decoded_total', { exporter: '127.0.0.2' });
    const floodThrottled = limited('127.0.0.2', 'records_per_second');
    console.log(`      flood exporter: 200 datagrams / 6000 records sent, ${floodDecoded} records decoded, ${floodThrottled} datagrams throttled; ` +
      `calm exporter: ${m('flowgate_records_decoded_total', { exporter: '127.0.0.3' })} of 600 records; ` +
      `greedy exporter: template_limit ${limited('127.0.0.4', 'template_limit')}, pending_overflow ${limited('127.0.0.4', 'pending_overflow')}`);

    expect(floodThrottled).to.be.greaterThan(0);
    expect(floodThrottled).to.equal(rig.g.gateway.stats.throttled);
    // Every flood datagram was either decoded whole or dropped whole, never half.
    expect(floodDecoded + 30 * floodThrottled).to.equal(6000);
    expect(m('flowgate_datagrams_received_total', { exporter: '127.0.0.2' })).to.equal(200 - floodThrottled);
    // The calm exporter lost nothing and was never limited.
    expect(m('flowgate_records_decoded_total', { exporter: '127.0.0.3' })).to.equal(600);
    for (const reason of ['records_per_second', 'template_limit', 'pending_overflow']) expect(limited('127.0.0.3', reason), reason).to.equal(0);
    // The greedy exporter: counted under its own address and reason.
    expect(limited('127.0.0.4', 'template_limit')).to.equal(1);
    expect(limited('127.0.0.4', 'pending_overflow')).to.equal(1);
    expect(limited('127.0.0.2', 'template_limit') + limited('127.0.0.2', 'pending_overflow')).to.equal(0);
    expect(rig.g.gateway.decoder.state.templates.size).to.equal(2);
  });
});
