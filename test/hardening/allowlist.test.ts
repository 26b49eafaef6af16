// Acceptance 5: a datagram from outside a listener's allowlist is never decoded. Real UDP on
// loopback: 127.0.0.2 and ::1 are real source addresses here, so the gateway sees the same
// rinfo.address an outside exporter would produce.

import { expect } from 'chai';
import { dataSet, netflow5, netflow9, NF5_DEFAULT_RECORD, type TemplateDef } from '../support/datagram-builders';
import { Sender, settle, startRig, type Rig } from '../support/hardening-rig';

const TEMPLATE: TemplateDef = { id: 300, fields: [{ id: 8, length: 4 }, { id: 12, length: 4 }, { id: 1, length: 4 }, { id: 2, length: 4 }] };
const templateOnly = (sourceId: number): Buffer => netflow9({ sourceId, flowsets: [{ kind: 'template', templates: [TEMPLATE] }] }).bytes;
const dataOnly = (sourceId: number, bytes: number): Buffer =>
  netflow9({ sourceId, flowsets: [dataSet(TEMPLATE, [[[10, 0, 0, 1], [10, 0, 0, 2], bytes, 1]])] }).bytes;
const v5 = (n: number): Buffer => netflow5({ records: Array.from({ length: n }, () => NF5_DEFAULT_RECORD) }).bytes;

describe('hardening: listener allowlist (acceptance 5)', function () {
  this.timeout(60_000);
  let rig: Rig | undefined;
  const senders: Sender[] = [];
  afterEach(async () => {
    for (const s of senders.splice(0)) await s.close();
    await rig?.stop();
    rig = undefined;
  });

  it('IPv4: a denied source is never decoded and cannot teach a template; an allowed one is decoded', async () => {
    rig = await startRig('listeners: [{ listen: "127.0.0.1:0", allow: ["127.0.0.1/32"] }]\nsummary_interval_seconds: 0');
    const port = rig.port();
    const denied = await Sender.bind('127.0.0.2');
    const allowed = await Sender.bind('127.0.0.1');
    senders.push(denied, allowed);

    // From the denied source: a template, data for it, and v5 (which needs no template).
    const fromDenied = [templateOnly(7), dataOnly(7, 111), v5(3), dataOnly(7, 112), v5(30)];
    for (const b of fromDenied) await denied.send(b, port, '127.0.0.1');
    await settle(rig, fromDenied.length);
    expect(await rig.metric('flowgate_datagrams_denied_total')).to.equal(fromDenied.length);
    expect(await rig.metric('flowgate_datagrams_received_total')).to.equal(0);
    expect(await rig.metric('flowgate_records_decoded_total')).to.equal(0);
    expect(await rig.metric('flowgate_decode_errors_total')).to.equal(0);
    expect(await rig.metric('flowgate_templates_active')).to.equal(0);
    expect(rig.records).to.have.length(0);

    // The allowed source, same source id: the denied template must not decode its data.
    await allowed.send(dataOnly(7, 222), port, '127.0.0.1');
    await settle(rig, fromDenied.length + 1);
    expect(await rig.metric('flowgate_records_decoded_total')).to.equal(0);
    expect(await rig.metric('flowgate_decode_errors_total', { reason: 'template_missing' })).to.equal(1);
    // Its own template releases the held set, and v5 decodes: the allowed path works.
    await allowed.send(templateOnly(7), port, '127.0.0.1');
    await allowed.send(v5(4), port, '127.0.0.1');
    await settle(rig, fromDenied.length + 3);
    await new Promise((r) => setImmediate(r)); // the embedded bus delivers on the next turn
    expect(await rig.metric('flowgate_records_decoded_total', { exporter: '127.0.0.1' })).to.equal(5);
    expect(await rig.metric('flowgate_datagrams_denied_total')).to.equal(fromDenied.length);
    expect(rig.records.map((r) => Number(r.bytes))).to.deep.equal([222, 0, 0, 0, 0].map((b, i) => (i === 0 ? b : Number(NF5_DEFAULT_RECORD.octets))));
    expect(rig.records.every((r) => Buffer.from(r.sampler_address).toString('hex') === '7f000001' || Buffer.from(r.exporter_address).toString('hex') === '7f000001')).to.equal(true);
  });

  it('IPv6: ::1 outside the list is denied; ::1 on the list is decoded', async () => {
    rig = await startRig([
      'listeners:',
      '  - { listen: "[::1]:0", allow: ["2001:db8::/32", "127.0.0.1"] }',
      '  - { listen: "[::1]:0", allow: ["::1"] }',
      'summary_interval_seconds: 0',
    ].join('\n'));
    const s = await Sender.bind('::1');
    senders.push(s);
    for (let i = 0; i < 10; i++) await s.send(v5(2), rig.port(0), '::1');
    for (let i = 0; i < 3; i++) await s.send(v5(2), rig.port(1), '::1');
    await settle(rig, 13);
    const text = await rig.metrics();
    const denied = (l: string): number => Number(new RegExp(`flowgate_datagrams_denied_total\\{listener="\\[::1\\]:${rig!.port(l === 'a' ? 0 : 1)}"\\} (\\d+)`).exec(text)?.[1]);
    expect(denied('a')).to.equal(10);
    expect(denied('b')).to.equal(0);
    expect(await rig.metric('flowgate_records_decoded_total')).to.equal(6);
    expect(await rig.metric('flowgate_decode_errors_total')).to.equal(0);
  });

  it('dual-stack [::]: IPv4 senders arrive as ::ffff:a.b.c.d and match IPv4 entries', async () => {
    rig = await startRig('listeners: [{ listen: "[::]:0", allow: ["127.0.0.1/32"] }]\nsummary_interval_seconds: 0');
    const ok = await Sender.bind('127.0.0.1');
    const no = await Sender.bind('127.0.0.2');
    const v6 = await Sender.bind('::1');
    senders.push(ok, no, v6);
    for (let i = 0; i < 4; i++) await ok.send(v5(1), rig.port(), '127.0.0.1');
    for (let i = 0; i < 5; i++) await no.send(v5(1), rig.port(), '127.0.0.1');
    for (let i = 0; i < 6; i++) await v6.send(v5(1), rig.port(), '::1');
    await settle(rig, 15);
    expect(await rig.metric('flowgate_datagrams_denied_total')).to.equal(11);
    expect(await rig.metric('flowgate_records_decoded_total')).to.equal(4);
    expect(await rig.metric('flowgate_records_decoded_total', { exporter: '::ffff:127.0.0.1' })).to.equal(4);
  });
});
