// Schema-valid file → GatewayConfig: addresses parsed, environment applied, and the checks a
// schema cannot express (two listeners on one port, limits that contradict each other).

import type { GatewayConfig, KafkaConfig, ListenerConfig, MetricsConfig, OutputConfig } from './types';
import { checkColumns } from '../outputs/csv/columns';
import { checkNetflow9 } from '../outputs/netflow9/check-config';
import { checkNemeaOutput } from '../outputs/nemea/check-config';
import type { FileConfig } from './schema';
import { bindsConflict, checkBindAddress } from './address';
import { parsePrefix } from '../outputs/prefix';
import { buildKafka, ENV_BROKERS, envBrokers, type Env } from './kafka-section';
import type { PathSegment, Problem } from './problems';
import { buildPrometheus, buildReduce, buildSplit, checkListenClashes } from './platform-outputs';

type LineOf = (path: PathSegment[]) => number | undefined;

function listeners(file: FileConfig, problems: Problem[], lineOf: LineOf): ListenerConfig[] {
  const out: { spec: ListenerConfig; index: number }[] = [];
  file.listeners.forEach((l, index) => {
    const path = ['listeners', index, 'listen'];
    const r = checkBindAddress(l.listen, false);
    if (!r.ok) {
      problems.push({ path, message: r.problem, line: lineOf(path) });
      return;
    }
    const clash = out.find((o) => bindsConflict(o.spec, r.value));
    if (clash) {
      const other = file.listeners[clash.index].listen;
      problems.push({ path, message: `${JSON.stringify(l.listen)} overlaps listeners[${clash.index}] (${JSON.stringify(other)}): both cannot bind the same UDP port; use one listener or different ports`, line: lineOf(path) });
    }
    const spec: ListenerConfig = { ...r.value, protocol: l.protocol, receive_buffer_bytes: l.receive_buffer_bytes };
    if (l.allow !== undefined) {
      const allow = Array.isArray(l.allow) ? l.allow : [l.allow];
      allow.forEach((t, j) => {
        const p = parsePrefix(t);
        const at = Array.isArray(l.allow) ? ['listeners', index, 'allow', j] : ['listeners', index, 'allow'];
        if (typeof p === 'string') problems.push({ path: at, message: p, line: lineOf(at) });
      });
      spec.allow = allow;
    }
    out.push({ spec, index });
  });
  return out.map((o) => o.spec);
}

function metrics(file: FileConfig, problems: Problem[], lineOf: LineOf): MetricsConfig | undefined {
  if (!file.metrics) return undefined;
  const r = checkBindAddress(file.metrics.listen, true);
  if (r.ok) return r.value;
  const path = ['metrics', 'listen'];
  problems.push({ path, message: r.problem, line: lineOf(path) });
  return undefined;
}

function limits(file: FileConfig, problems: Problem[], lineOf: LineOf): void {
  const d = file.decoder;
  if (d.pending_max_bytes_per_exporter > d.pending_max_bytes_total) {
    const path = ['decoder', 'pending_max_bytes_per_exporter'];
    problems.push({ path, message: `${d.pending_max_bytes_per_exporter} is larger than decoder.pending_max_bytes_total (${d.pending_max_bytes_total}); one exporter cannot hold more than all of them`, line: lineOf(path) });
  }
  if (file.listeners.length === 0 && file.outputs.length === 0) {
    problems.push({ path: ['listeners'], message: 'nothing to do: give at least one listener (ingest) or one output (a converter-only process), e.g. listeners: [{ listen: "0.0.0.0:2055" }]', line: lineOf(['listeners']) });
  }
}

function outputs(file: FileConfig, kafka: KafkaConfig | undefined, problems: Problem[], lineOf: LineOf): OutputConfig[] {
  const names = new Map<string, number>();
  const clientId = kafka?.client_id ?? 'flowgate';
  return file.outputs.map((o, i) => {
    const name = o.name ?? o.type;
    const seen = names.get(name);
    if (seen !== undefined) {
      const path = ['outputs', i, 'name'];
      problems.push({ path, message: `${JSON.stringify(name)} is already the name of outputs[${seen}]; give each output its own name (it names its consumer group)`, line: lineOf(path) });
    } else names.set(name, i);
    // reduce's `topic` is the topic it writes (the contract); it reads from_topic.
    const readTopic = o.type === 'reduce' ? o.from_topic : o.topic;
    const topic = readTopic ?? kafka?.topic ?? 'flows';
    const group = o.group_id ?? `${clientId}-${name}`;
    const common = { name, topic, group_id: group };
    if (o.type === 'prometheus') return buildPrometheus(o, i, common, problems, lineOf);
    if (o.type === 'split') return buildSplit(o, i, common, kafka, problems, lineOf);
    if (o.type === 'reduce') return buildReduce(o, i, common, kafka, problems, lineOf);
    if (o.type === 'csv' || o.type === 'nemea') {
      const bad = o.type === 'nemea' ? checkNemeaOutput(o) : checkColumns(o.fields).map((message) => ({ key: 'fields', message }));
      for (const why of bad) {
        const path = ['outputs', i, why.key];
        problems.push({ path, message: why.message, line: lineOf(path) });
      }
    }
    if (!kafka && o.topic !== undefined && o.topic !== 'flows') {
      const path = ['outputs', i, 'topic'];
      problems.push({ path, message: `${JSON.stringify(o.topic)}: without a kafka section outputs read the embedded bus, which has only the flow topic; remove topic or add kafka`, line: lineOf(path) });
    }
    if (o.type === 'netflow9') {
      const n = checkNetflow9(o);
      for (const p of n.problems) {
        const path = ['outputs', i, ...p.path];
        problems.push({ path, message: p.message, line: lineOf(path) });
      }
      return { ...o, name, topic, group_id: group, template_file: n.templateFile };
    }
    return { ...o, name, topic, group_id: group };
  });
}

export function buildConfig(file: FileConfig, env: Env, lineOf: LineOf): { config: GatewayConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const config: GatewayConfig = {
    listeners: listeners(file, problems, lineOf),
    decoder: { ...file.decoder },
    summary_interval_seconds: file.summary_interval_seconds,
    log: { ...file.log },
    outputs: [],
  };
  limits(file, problems, lineOf);
  if (file.kafka) {
    const k = buildKafka(file.kafka, env, lineOf);
    config.kafka = k.kafka;
    problems.push(...k.problems);
  } else if (envBrokers(env)) {
    // Silently ignoring it would leave an operator wondering why nothing reaches Kafka.
    problems.push({ path: [], message: `${ENV_BROKERS} is set but the file has no kafka section; add "kafka: {}" to publish to Kafka, or unset ${ENV_BROKERS}` });
  }
  config.outputs = outputs(file, config.kafka, problems, lineOf);
  if (file.state) config.state = { ...file.state };
  const m = metrics(file, problems, lineOf);
  if (m) config.metrics = m;
  checkListenClashes(config, problems, lineOf);
  return { config, problems };
}
