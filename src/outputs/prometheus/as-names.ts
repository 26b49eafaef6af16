// AS number → name, from a local CSV file (no network look-ups: an outage of a whois or RDAP
// service must not change what the gateway exports). One entry a line:
//
//   # comment
//   asn,name            ← optional header
//   64512,Example Networks
//   AS64513,"Other, Inc."
//
// A malformed line is a config error with its line number: a names file is written by hand or
// by a script once, and a silently skipped line would show up later as an unnamed AS in a
// dashboard, far from its cause.

import { readFileSync } from 'node:fs';

export interface AsNameProblem {
  line: number;
  message: string;
}

export interface AsNames {
  names: Map<number, string>;
  problems: AsNameProblem[];
}

export function parseAsNames(text: string): AsNames {
  const names = new Map<number, string>();
  const problems: AsNameProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (!line || line.startsWith('#')) return;
    const comma = line.indexOf(',');
    if (comma < 0) {
      problems.push({ line: n, message: `${JSON.stringify(line)} has no comma; expected "asn,name", e.g. 64512,Example Networks` });
      return;
    }
    const asText = line.slice(0, comma).trim();
    let name = line.slice(comma + 1).trim();
    if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replace(/""/g, '"');
    if (n === 1 && /^(asn?|as_?number)$/i.test(asText)) return; // header
    const m = /^(?:AS)?([0-9]{1,10})$/i.exec(asText);
    const asn = m ? Number(m[1]) : NaN;
    if (!m || asn > 4294967295) {
      problems.push({ line: n, message: `${JSON.stringify(asText)} is not an AS number (0-4294967295, optionally with "AS" in front)` });
      return;
    }
    if (!name) {
      problems.push({ line: n, message: `AS${asn} has an empty name` });
      return;
    }
    if (names.has(asn) && names.get(asn) !== name) {
      problems.push({ line: n, message: `AS${asn} is named twice (${JSON.stringify(names.get(asn))} and ${JSON.stringify(name)})` });
      return;
    }
    names.set(asn, name);
  });
  return { names, problems };
}

/** Reads and parses the file; throws on a read error or the first bad line (start-up path). */
export function loadAsNames(path: string): Map<number, string> {
  const r = parseAsNames(readFileSync(path, 'utf8'));
  if (r.problems.length) throw new Error(`${path}:${r.problems[0].line}: ${r.problems[0].message}`);
  return r.names;
}
