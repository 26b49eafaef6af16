// Loads templates/information-elements.yaml: which IE goes to which canonical target.
// The file is data so operators can map vendor fields without a code change.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { packagePath } from '../util/paths';
import { isTarget, type TargetName } from './field-targets';

export interface IeInfo {
  name: string;
  type: string;
  to?: TargetName;
  priority: number;
  drop: boolean;
}

export class IeRegistry {
  constructor(
    private readonly iana: ReadonlyMap<number, IeInfo>,
    private readonly netflow9: ReadonlyMap<number, IeInfo>,
    private readonly enterprise: ReadonlyMap<string, IeInfo>,
  ) {}

  /** v9: plain ids, NetFlow-only entries first; IPFIX: enterprise 0 → IANA, else "PEN/id". */
  lookup(enterprise: number, id: number, netflow9: boolean): IeInfo | undefined {
    if (netflow9) return this.netflow9.get(id) ?? this.iana.get(id);
    if (enterprise === 0) return this.iana.get(id);
    return this.enterprise.get(`${enterprise}/${id}`);
  }
}

const IE_TYPES = new Set([
  'unsigned8', 'unsigned16', 'unsigned32', 'unsigned64', 'signed8', 'signed16', 'signed32', 'signed64',
  'float32', 'float64', 'boolean', 'macAddress', 'octetArray', 'string', 'dateTimeSeconds',
  'dateTimeMilliseconds', 'dateTimeMicroseconds', 'dateTimeNanoseconds', 'ipv4Address', 'ipv6Address',
  'basicList', 'subTemplateList', 'subTemplateMultiList',
]);

function parseEntry(where: string, raw: unknown): IeInfo {
  if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: expected a mapping { name, type, to? }`);
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !o.name) throw new Error(`${where}.name: a non-empty string is required`);
  if (typeof o.type !== 'string' || !IE_TYPES.has(o.type)) {
    throw new Error(`${where}.type: ${JSON.stringify(o.type)} is not an IPFIX abstract data type (${[...IE_TYPES].join(', ')})`);
  }
  if (o.to !== undefined && (typeof o.to !== 'string' || !isTarget(o.to))) {
    throw new Error(`${where}.to: ${JSON.stringify(o.to)} is not a canonical target (see src/decode/field-targets.ts)`);
  }
  if (o.priority !== undefined && typeof o.priority !== 'number') throw new Error(`${where}.priority: must be a number`);
  return {
    name: o.name,
    type: o.type,
    to: o.to as TargetName | undefined,
    priority: (o.priority as number | undefined) ?? 0,
    drop: o.drop === true,
  };
}

function section(file: string, doc: Record<string, unknown>, key: string): Array<[string, IeInfo]> {
  const s = doc[key];
  if (s === undefined || s === null) return [];
  if (typeof s !== 'object') throw new Error(`${file}: ${key}: expected a mapping`);
  return Object.entries(s as Record<string, unknown>).map(([k, v]) => [k, parseEntry(`${file}: ${key}.${k}`, v)]);
}

function numericKey(file: string, key: string, k: string): number {
  const n = Number(k);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${file}: ${key}.${k}: ids are integers 0-65535`);
  return n;
}

export function loadIeRegistry(files: readonly string[] = [packagePath('templates', 'information-elements.yaml')]): IeRegistry {
  const iana = new Map<number, IeInfo>();
  const nf9 = new Map<number, IeInfo>();
  const ent = new Map<string, IeInfo>();
  for (const file of files) {
    const doc = parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null) throw new Error(`${file}: expected a YAML mapping with iana/netflow9/enterprise`);
    const d = doc as Record<string, unknown>;
    for (const [k, v] of section(file, d, 'iana')) iana.set(numericKey(file, 'iana', k), v);
    for (const [k, v] of section(file, d, 'netflow9')) nf9.set(numericKey(file, 'netflow9', k), v);
    for (const [k, v] of section(file, d, 'enterprise')) {
      if (!/^\d+\/\d+$/.test(k)) throw new Error(`${file}: enterprise.${k}: keys are "PEN/id", e.g. "6871/14"`);
      ent.set(k, v);
    }
  }
  return new IeRegistry(iana, nf9, ent);
}

let defaultRegistry: IeRegistry | undefined;
export function defaultIeRegistry(): IeRegistry {
  defaultRegistry ??= loadIeRegistry();
  return defaultRegistry;
}
