// Semantic checks and the validated form of the issue-8 outputs (prometheus, split, reduce):
// prefixes, label names, the AS-name file, the key file, the listen address, and that the
// outputs which produce (split, reduce) have a kafka section. Kept apart from build.ts so the
// other output types' checks do not interleave with these.

import { readFileSync } from 'node:fs';
import type { DirectionBy, GatewayConfig, KafkaConfig, OutputConfig, PrometheusLabel, PrometheusOutputConfig, ReduceOutputConfig, SplitMatch, SplitOutputConfig } from './types';
import type { FilePrometheusOutput, FileReduceOutput, FileSplitOutput } from './schema';
import { checkBindAddress } from './address';
import type { PathSegment, Problem } from './problems';
import { parsePrefix } from '../outputs/prefix';
import { parseAsNames } from '../outputs/prometheus/as-names';
import { readAnonKey } from '../outputs/reduce/anon-key';
import { checkKeep } from '../outputs/reduce/fields';

type LineOf = (path: PathSegment[]) => number | undefined;

export interface Common {
  name: string;
  topic: string;
  group_id: string;
}

class Checker {
  constructor(private readonly base: PathSegment[], private readonly problems: Problem[], private readonly lineOf: LineOf) {}
  add(rel: PathSegment[], message: string): void {
    const path = [...this.base, ...rel];
    this.problems.push({ path, message, line: this.lineOf(path) ?? this.lineOf(this.base) });
  }
  prefixes(rel: PathSegment[], v: string | string[] | undefined): string[] | undefined {
    if (v === undefined) return undefined;
    const list = Array.isArray(v) ? v : [v];
    list.forEach((t, j) => {
      const p = parsePrefix(String(t));
      if (typeof p === 'string') this.add(Array.isArray(v) ? [...rel, j] : rel, p);
    });
    return list.map(String);
  }
}

const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function needsKafka(c: Checker, type: string, kafka: KafkaConfig | undefined): void {
  if (!kafka) c.add(['type'], `a ${type} output publishes to Kafka topics; add a kafka section (e.g. kafka: { brokers: ["127.0.0.1:9092"] }) or remove this output`);
}

export function buildPrometheus(o: FilePrometheusOutput, i: number, common: Common, problems: Problem[], lineOf: LineOf): PrometheusOutputConfig {
  const c = new Checker(['outputs', i], problems, lineOf);
  const l = checkBindAddress(o.listen, true);
  if (!l.ok) c.add(['listen'], l.problem);
  let direction: DirectionBy | undefined;
  if (o.direction_by) {
    const d = o.direction_by;
    if ((d.local_as === undefined) === (d.local_prefixes === undefined)) {
      c.add(['direction_by'], 'give exactly one of local_as (e.g. { local_as: 64512 }) or local_prefixes (e.g. { local_prefixes: ["10.0.0.0/8"] })');
    } else if (d.local_as !== undefined) {
      direction = { local_as: list(d.local_as) ?? [] };
    } else {
      direction = { local_prefixes: c.prefixes(['direction_by', 'local_prefixes'], d.local_prefixes) ?? [] };
    }
  }
  if (o.as_names !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(o.as_names, 'utf8');
    } catch (e) {
      c.add(['as_names'], `${JSON.stringify(o.as_names)} cannot be read (${e instanceof Error ? e.message : String(e)}); give a CSV file of "asn,name" lines`);
    }
    if (text !== undefined) {
      for (const p of parseAsNames(text).problems.slice(0, 5)) c.add(['as_names'], `${o.as_names} line ${p.line}: ${p.message}`);
    }
  }
  const labels = [...new Set(o.labels)] as PrometheusLabel[];
  return {
    ...common, type: 'prometheus', listen: l.ok ? l.value : { host: '127.0.0.1', port: 0 }, labels,
    ...(direction ? { direction_by: direction } : {}), ...(o.as_names !== undefined ? { as_names: o.as_names } : {}), max_series: o.max_series,
  };
}

export function buildSplit(o: FileSplitOutput, i: number, common: Common, kafka: KafkaConfig | undefined, problems: Problem[], lineOf: LineOf): SplitOutputConfig {
  const c = new Checker(['outputs', i], problems, lineOf);
  needsKafka(c, 'split', kafka);
  const rules = o.rules.map((r, j) => {
    const at = ['rules', j, 'match'];
    const m: SplitMatch = {};
    for (const k of ['addr', 'src_addr', 'dst_addr', 'exporter'] as const) {
      const v = c.prefixes([...at, k], r.match[k]);
      if (v) m[k] = v;
    }
    for (const k of ['in_if', 'out_if'] as const) {
      const v = list(r.match[k]);
      if (v) m[k] = v;
    }
    if (Object.keys(m).length === 0) c.add(at, 'an empty match would take every record; give addr, src_addr, dst_addr, exporter, in_if or out_if (or use default_topic)');
    if (r.topic === common.topic) c.add(['rules', j, 'topic'], `${JSON.stringify(r.topic)} is the topic this output reads; writing to it would loop`);
    return { match: m, topic: r.topic };
  });
  if (o.default_topic !== undefined && o.default_topic === common.topic) c.add(['default_topic'], `${JSON.stringify(o.default_topic)} is the topic this output reads; writing to it would loop`);
  return { ...common, type: 'split', rules, ...(o.default_topic !== undefined ? { default_topic: o.default_topic } : {}) };
}

export function buildReduce(o: FileReduceOutput, i: number, common: Common, kafka: KafkaConfig | undefined, problems: Problem[], lineOf: LineOf): ReduceOutputConfig {
  const c = new Checker(['outputs', i], problems, lineOf);
  needsKafka(c, 'reduce', kafka);
  for (const why of checkKeep(o.keep)) c.add(['keep'], why);
  if (o.topic === common.topic) c.add(['topic'], `${JSON.stringify(o.topic)} is also the topic read (from_topic, default kafka.topic); for reduce, topic names the topic WRITTEN: pick another`);
  let anonymize: ReduceOutputConfig['anonymize'];
  if (o.anonymize) {
    const { key_file: keyFile, ...rest } = o.anonymize;
    const fields = Object.keys(rest);
    for (const f of fields) if (!o.keep.includes(f)) c.add(['anonymize', f], `${f} is anonymised but not in keep; add it to keep or remove it here`);
    if (!fields.length) c.add(['anonymize'], 'names no field; add e.g. src_addr: prefix-preserving');
    const k = readAnonKey(keyFile);
    if (typeof k === 'string') c.add(['anonymize', 'key_file'], `${JSON.stringify(keyFile)} ${k}`);
    anonymize = { fields, key_file: keyFile };
  }
  return { ...common, type: 'reduce', to_topic: o.topic, keep: [...new Set(o.keep)], ...(anonymize ? { anonymize } : {}) };
}

/** Where an output writes, for `flowgate check-config`'s summary. */
export function outputTarget(o: OutputConfig): string {
  switch (o.type) {
    case 'csv': return o.directory;
    case 'netflow9': return o.targets.join(' ');
    case 'nemea': return o.listen;
    case 'prometheus': return `http://${o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host}:${o.listen.port}/metrics`;
    case 'split': return `topics ${[...new Set([...o.rules.map((r) => r.topic), ...(o.default_topic ? [o.default_topic] : [])])].join(', ')}${o.default_topic ? '' : ' (unmatched dropped)'}`;
    case 'reduce': return `topic ${o.to_topic}`;
  }
}

/** Two HTTP servers on one address would fail at start with EADDRINUSE; say so at check time. */
export function checkListenClashes(config: GatewayConfig, problems: Problem[], lineOf: LineOf): void {
  const taken = new Map<string, string>();
  if (config.metrics && config.metrics.port !== 0) taken.set(`${config.metrics.host}:${config.metrics.port}`, 'metrics.listen');
  config.outputs.forEach((o, i) => {
    if (o.type !== 'prometheus' || o.listen.port === 0) return;
    const at = `${o.listen.host}:${o.listen.port}`;
    const other = taken.get(at);
    const path = ['outputs', i, 'listen'];
    if (other) problems.push({ path, message: `${JSON.stringify(at)} is also ${other}; give each HTTP endpoint its own port`, line: lineOf(path) });
    else taken.set(at, `outputs[${i}].listen`);
  });
}
