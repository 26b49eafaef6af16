// Regression: `flowgate decode --compact` of each fixture capture equals the committed
// fixtures/<capture>.expected.jsonl (written by scripts/fixtures/write-expected.sh and
// proven against tshark in decode-vs-tshark.test.ts). Catches changes in every field,
// including the ones tshark does not show.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/manifest.json'), 'utf8')) as Array<{ file: string }>;

describe('fixture captures decode to their committed expected records', () => {
  for (const { file } of manifest) {
    it(file, () => {
      const got = execFileSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'decode', path.join(ROOT, 'fixtures', file), '--compact', '--counters', 'none', '--summary', 'none'], { maxBuffer: 256 << 20 })
        .toString().split('\n').filter(Boolean);
      const want = readFileSync(path.join(ROOT, 'fixtures', file.replace(/\.pcap$/, '.expected.jsonl')), 'utf8').split('\n').filter(Boolean);
      expect(got.length).to.equal(want.length);
      for (let i = 0; i < want.length; i++) expect(JSON.parse(got[i]), `${file} record ${i + 1}`).to.deep.equal(JSON.parse(want[i]));
    });
  }
});
