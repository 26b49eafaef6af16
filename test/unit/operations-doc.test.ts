// docs/OPERATIONS.md explains every log line an operator can meet. The messages are found in
// src/ as the last string literal of a log.info/warn/error(...) call (plus the bad-input
// constants); a message may be documented whole (`msg`) or, when long, by its beginning
// (`start ...`) or its end (`... end`).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { BAD_INPUT_MSG, SUPPRESSED_MSG } from '../../src/log/rate-limited';

const ROOT = path.resolve(__dirname, '../../..');
const DOC = readFileSync(path.join(ROOT, 'docs/OPERATIONS.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The messages of the log calls in one source text. */
export function logMessages(text: string): string[] {
  const out: string[] = [];
  const call = /\.(info|warn|error)\(/g;
  for (let m = call.exec(text); m; m = call.exec(text)) {
    const end = text.indexOf(');', m.index);
    if (end < 0) continue;
    const literals = [...text.slice(m.index, end).matchAll(/'((?:[^'\\\n]|\\.)+)'/g)];
    const last = literals.at(-1);
    // Only calls whose message is a literal: `log.warn(fields, 'msg')`.
    if (last && /['`]\s*,?\s*$/.test(text.slice(m.index, end).trimEnd())) out.push(last[1]);
  }
  return out;
}

function documented(msg: string): boolean {
  if (DOC.includes(`\`${msg}\``)) return true;
  // Per line, so a code fence cannot shift which backticks pair up.
  const spans = DOC.split('\n').filter((l) => !l.startsWith('```')).flatMap((l) => [...l.matchAll(/`([^`]+)`/g)]);
  for (const [, shown] of spans) {
    if (shown.endsWith(' ...') && msg.startsWith(shown.slice(0, -4))) return true;
    if (shown.startsWith('... ') && msg.endsWith(shown.slice(4))) return true;
  }
  return false;
}

describe('docs/OPERATIONS.md explains every log line', () => {
  it('finds the log calls it checks (the extraction works)', () => {
    expect(logMessages("log.warn({ a: 1 },\n  'kafka: x y');\nlog.info(f, 'summary');\nlog.info(String(x));")).to.deep.equal(['kafka: x y', 'summary']);
  });

  it('every message logged in src/ is in the guide', () => {
    const messages = new Set<string>([BAD_INPUT_MSG, SUPPRESSED_MSG]);
    for (const f of sourceFiles(path.join(ROOT, 'src'))) {
      // Comments show example calls; only code counts.
      const code = readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*)/.test(l)).join('\n');
      for (const msg of logMessages(code)) messages.add(msg);
    }
    expect(messages.size).to.be.greaterThan(40);
    expect([...messages].filter((m) => !documented(m)).sort()).to.deep.equal([]);
  });
});
