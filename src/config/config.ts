// config.yaml: the part the codec core and the embedded gateway need today. Issue #3 adds
// the JSON Schema (ajv) validation, Kafka, state and metrics sections; until then unknown
// sections are rejected by name so a typo does not pass silently.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROTOCOLS } from '../decode/types';
import type { ProtocolChoice } from '../decode/datagram-decoder';
import { parseListen, type ListenerSpec } from '../ingest/udp-listener';

export interface DecoderConfig {
  template_expiry_seconds: number;
  max_templates_per_exporter: number;
  max_fields_per_template: number;
  max_fields_per_exporter: number;
  pending_max_bytes_per_exporter: number;
  pending_max_bytes_total: number;
  pending_max_age_seconds: number;
  keep_unmapped_fields: boolean;
}

export interface GatewayConfig {
  listeners: ListenerSpec[];
  decoder: DecoderConfig;
  summary_interval_seconds: number;
}

export const DEFAULT_DECODER_CONFIG: DecoderConfig = {
  template_expiry_seconds: 1800,
  max_templates_per_exporter: 1024,
  max_fields_per_template: 512,
  max_fields_per_exporter: 65536,
  pending_max_bytes_per_exporter: 1 << 20,
  pending_max_bytes_total: 64 << 20,
  pending_max_age_seconds: 60,
  keep_unmapped_fields: true,
};

const KNOWN_SECTIONS = new Set(['listeners', 'decoder', 'summary_interval_seconds', 'kafka', 'state', 'metrics', 'outputs']);

export class ConfigError extends Error {}

function fail(path: string, msg: string): never {
  throw new ConfigError(`${path}: ${msg}`);
}

export function parseConfig(text: string, source = 'config'): GatewayConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail(source, 'expected a mapping at the top level');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!KNOWN_SECTIONS.has(k)) fail(`${source}: ${k}`, `unknown section; allowed: ${[...KNOWN_SECTIONS].join(', ')}`);
  if (!Array.isArray(d.listeners) || d.listeners.length === 0) fail(`${source}: listeners`, 'a non-empty list of { listen: "HOST:PORT", protocol } is required');
  const listeners = d.listeners.map((l: unknown, i: number): ListenerSpec => {
    const at = `${source}: listeners[${i}]`;
    if (typeof l !== 'object' || l === null) fail(at, 'expected { listen: "HOST:PORT", protocol: auto }');
    const o = l as Record<string, unknown>;
    if (typeof o.listen !== 'string') fail(`${at}.listen`, 'a "HOST:PORT" string is required, e.g. "0.0.0.0:2055"');
    let hp: { host: string; port: number };
    try {
      hp = parseListen(o.listen);
    } catch (e) {
      fail(`${at}.listen`, (e as Error).message);
    }
    const protocol = o.protocol ?? 'auto';
    if (typeof protocol !== 'string' || !(protocol === 'auto' || (PROTOCOLS as readonly string[]).includes(protocol))) {
      fail(`${at}.protocol`, `${JSON.stringify(protocol)} is not one of auto, ${PROTOCOLS.join(', ')}`);
    }
    return { ...hp, protocol: protocol as ProtocolChoice };
  });
  const decoder = { ...DEFAULT_DECODER_CONFIG };
  if (d.decoder !== undefined) {
    if (typeof d.decoder !== 'object' || d.decoder === null) fail(`${source}: decoder`, 'expected a mapping');
    for (const [k, v] of Object.entries(d.decoder as Record<string, unknown>)) {
      if (!(k in decoder)) fail(`${source}: decoder.${k}`, `unknown key; allowed: ${Object.keys(decoder).join(', ')}`);
      const def = (decoder as unknown as Record<string, unknown>)[k];
      if (typeof def === 'boolean' ? typeof v !== 'boolean' : typeof v !== 'number' || !(v > 0)) {
        fail(`${source}: decoder.${k}`, `${JSON.stringify(v)} is not ${typeof def === 'boolean' ? 'true or false' : 'a positive number'}`);
      }
      (decoder as unknown as Record<string, unknown>)[k] = v;
    }
  }
  const summary = d.summary_interval_seconds ?? 10;
  if (typeof summary !== 'number' || summary < 0) fail(`${source}: summary_interval_seconds`, 'a number of seconds >= 0 (0 turns the summary off)');
  return { listeners, decoder, summary_interval_seconds: summary };
}

export function loadConfig(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseConfig(text, file);
}
