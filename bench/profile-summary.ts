// Summarises a V8 CPU profile (`node --cpu-prof ...` writes *.cpuprofile) as the functions
// with the most self time and the most inclusive time, in % of all samples:
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/decode-bench.js netflow9
//   node dist/bench/profile-summary.js /tmp/prof/*.cpuprofile [top=25] [weight=samples]
//
// weight=samples counts samples instead of summing the time between them: use it for a
// process pinned to one core (taskset), where the profiler's sampling thread competes with
// the main thread and some samples stand for long, unsampled stretches.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isCpuProfile(v: unknown): v is CpuProfile {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Array.isArray(o.nodes) && Array.isArray(o.samples) && Array.isArray(o.timeDeltas);
}

function label(f: CallFrame): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return name;
  const file = f.url.replace(/^file:\/\//, '');
  const rel = file.includes('/dist/') ? file.slice(file.indexOf('/dist/') + 6) : path.basename(file);
  return `${name} ${rel}:${f.lineNumber + 1}`;
}

export function summarise(profile: CpuProfile, top: number, bySamples = false): string {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = bySamples ? 1000 : profile.timeDeltas[i] ?? 0;
    let id: number | undefined = profile.samples[i];
    const node = byId.get(id);
    if (node === undefined) continue;
    all += dt;
    const own = label(node.callFrame);
    self.set(own, (self.get(own) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const n = byId.get(id);
      if (n === undefined) break;
      const l = label(n.callFrame);
      if (!seen.has(l)) {
        seen.add(l);
        total.set(l, (total.get(l) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  const unit = bySamples ? 'samples' : 'ms';
  const table = (title: string, m: Map<string, number>): string => {
    const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [title, ...rows.map(([l, t]) => `${((100 * t) / all).toFixed(1).padStart(6)}%  ${(t / 1000).toFixed(0).padStart(7)} ${unit}  ${l}`)].join('\n');
  };
  return [`${(all / 1000).toFixed(0)} ${bySamples ? 'samples' : 'ms sampled'}`, table('self time:', self), '', table('inclusive time:', total)].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topArg = args.find((a) => /^top=\d+$/.test(a));
  const top = topArg ? Number(topArg.slice(4)) : 25;
  const bySamples = args.includes('weight=samples');
  for (const file of args.filter((a) => a !== topArg && a !== 'weight=samples')) {
    const doc: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isCpuProfile(doc)) throw new Error(`${file}: not a .cpuprofile`);
    console.log(`== ${file}`);
    console.log(summarise(doc, top, bySamples));
    console.log('');
  }
}
