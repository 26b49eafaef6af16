// `flowgate decode` as a user runs it: flow lines on stdout only; counter samples and the
// summary on their own streams; CSV with a header; bad input gives a clear error and exit 1.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const SHARED = path.resolve(ROOT, '../shared/captures');

function run(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('flowgate decode (command line)', () => {
  it('prints one JSON line per flow on stdout; counters and summary go to stderr', () => {
    const r = run(['decode', path.join(SHARED, 'tcpdump_sflow-print-v6.pcap')]);
    expect(r.status).to.equal(0);
    const flows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(flows).to.have.length(13);
    expect(flows.every((f) => f.type === 'SFLOW_5' && typeof f.src_addr === 'string' && typeof f.time_flow_start_ns === 'string')).to.equal(true);
    const err = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(err.filter((e) => 'counters' in e)).to.have.length(48);
    const summary = err.find((e) => 'summary' in e)?.summary as Record<string, unknown>;
    expect(summary).to.include({ datagrams: 25, records: 13, counter_samples: 48 });
  });

  it('writes counters and the summary to files when asked, and CSV with chosen columns', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-cli-'));
    const r = run(['decode', path.join(SHARED, 'tcpdump_sflow-print-v6.pcap'), '--format', 'csv', '--fields', 'src_addr,dst_addr,proto,bytes,sampler_address',
      '--counters', path.join(dir, 'c.jsonl'), '--summary', path.join(dir, 's.json')]);
    expect(r.status).to.equal(0);
    expect(r.stderr).to.equal('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).to.equal('src_addr,dst_addr,proto,bytes,sampler_address');
    expect(lines).to.have.length(14);
    expect(lines[1]).to.equal('10.10.10.2,50.1.1.2,63,64,30::1:1:1');
    expect(readFileSync(path.join(dir, 'c.jsonl'), 'utf8').trim().split('\n')).to.have.length(48);
    expect(JSON.parse(readFileSync(path.join(dir, 's.json'), 'utf8')).summary.records).to.equal(13);
  });

  it('--compact leaves out default fields; --protocol rejects a capture of another protocol', () => {
    const file = path.join(SHARED, 'pmacct_100-IPFIXv10-CISCO.pcap');
    const compact = JSON.parse(execFileSync(process.execPath, [CLI, 'decode', file, '--compact', '--summary', 'none']).toString().split('\n')[0]) as Record<string, unknown>;
    expect(compact).to.not.have.property('src_mac');
    expect(compact).to.include({ type: 'IPFIX', src_addr: '10.231.65.56', bytes: 220 });
    const wrong = run(['decode', file, '--protocol', 'sflow']);
    expect(wrong.status).to.equal(0);
    expect(wrong.stdout).to.equal('');
    expect(JSON.parse(wrong.stderr.trim()).summary.errors).to.deep.equal({ unknown_protocol: 6 });
  });

  it('fails with a clear message on a file that is not a capture, or a bad option', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-cli-'));
    const junk = path.join(dir, 'junk.pcap');
    writeFileSync(junk, 'hello, not a pcap');
    const r = run(['decode', junk]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/not a pcap or pcapng file/);
    const missing = run(['decode', path.join(dir, 'missing.pcap')]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/ENOENT|no such file/i);
    const bad = run(['decode', junk, '--format', 'xml']);
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.match(/use jsonl or csv/);
  });
});
