// ajv's errors ("must be equal to one of the allowed values") → one operator-facing line each:
// the path, the value as written, and what would be accepted, worded from the schema itself.

import type { ErrorObject } from 'ajv';
import { EXPECTED_KEYWORD, type JsonSchema } from './schema';
import { showValue, type PathSegment, type Problem } from './problems';
import { closest } from './suggest';
import type { YamlSource } from './yaml-source';

/** "/listeners/0/listen" → ['listeners', 0, 'listen'], indices as numbers where data has arrays. */
export function pointerToPath(pointer: string, data: unknown): PathSegment[] {
  if (!pointer) return [];
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  null: 'empty',
};

function typeOf(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a whole number' : 'a number with a fraction';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'boolean') return 'a boolean';
  return `a ${typeof v}`;
}

function allowedKeys(s: JsonSchema): string[] {
  // Keys whose schema is a `not` exist only to be refused with a reason (kafka.sasl.password).
  return Object.entries(s.properties ?? {}).filter(([, p]) => p.not === undefined).map(([k]) => k);
}

/** What a value at schema `s` must be, in words: "a whole number >= 1", "one of raw, delimited", ... */
export function expectation(s: JsonSchema | undefined): string {
  if (!s) return 'a valid value';
  const hint = s[EXPECTED_KEYWORD];
  if (hint) return hint;
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('object')) {
    const keys = allowedKeys(s);
    return `a mapping with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}`;
  }
  if (types.includes('string') && s.minLength) return 'a non-empty string';
  const words = types.map((t) => TYPE_WORDS[t] ?? t).join(' or ') || 'a value';
  if (s.minimum !== undefined && s.maximum !== undefined) return `${words} from ${s.minimum} to ${s.maximum}`;
  if (s.minimum !== undefined) return `${words} >= ${s.minimum}`;
  if (s.exclusiveMinimum !== undefined) return `${words} > ${s.exclusiveMinimum}`;
  return words;
}

/** Every place a key appears in the schema: 'topic' → ['kafka.topic']. For "it belongs under kafka". */
function keyIndex(root: JsonSchema): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const walk = (s: JsonSchema, at: string): void => {
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      const p = at ? `${at}.${k}` : k;
      index.set(k, [...(index.get(k) ?? []), p]);
      walk(sub, p);
    }
    if (s.items) walk(s.items, `${at}[]`);
  };
  walk(root, '');
  return index;
}

function unknownKey(key: string, parent: JsonSchema | undefined, root: JsonSchema): string {
  const allowed = parent ? allowedKeys(parent) : [];
  const near = closest(key, allowed);
  const elsewhere = keyIndex(root).get(key);
  let hint = '';
  if (near) hint = ` (did you mean "${near}"?)`;
  else if (elsewhere) hint = ` (that key belongs at ${elsewhere.join(' or ')})`;
  else if (/pass|secret|token/i.test(key)) hint = ' (secrets are read from environment variables, never from the file)';
  return `unknown key "${key}"${hint}; allowed: ${allowed.join(', ')}`;
}

function explainOne(e: ErrorObject, root: JsonSchema, yaml: YamlSource, data: unknown): Problem {
  const path = pointerToPath(e.instancePath, data);
  const params: Record<string, unknown> = e.params;
  // verbose: true puts the failing subschema's parent on the error; our schema is all JsonSchema.
  const parent = e.parentSchema as JsonSchema | undefined;
  const v = e.data;
  const at = (message: string, p: PathSegment[] = path, line = yaml.lineOf(p)): Problem => ({ path: p, message, line });
  switch (e.keyword) {
    case 'required': {
      const key = String(params.missingProperty);
      return at(`required key missing; give ${expectation(parent?.properties?.[key])}`, [...path, key], yaml.lineOf(path));
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return at(unknownKey(key, parent, root), [...path, key], yaml.lineOfKey(path, key));
    }
    case 'not':
      // Only secrets written into the file (kafka.sasl.password, kafka.tls.key_passphrase) use
      // `not`; their values are never echoed.
      return at(`not allowed: ${parent?.description ?? 'remove it'}`);
    case 'enum':
      return at(`${showValue(v)} is not one of ${(parent?.enum ?? []).join(', ')}`);
    case 'type':
      return at(v === null ? `empty; expected ${expectation(parent)} (or remove the key)` : `${showValue(v)} is ${typeOf(v)}; expected ${expectation(parent)}`);
    case 'minimum':
    case 'exclusiveMinimum':
      return at(`${showValue(v)} is too small; allowed: ${expectation(parent)}`);
    case 'maximum':
      return at(`${showValue(v)} is too large; allowed: ${expectation(parent)}`);
    case 'minItems':
    case 'minLength':
      return at(`${showValue(v)} is empty; expected ${expectation(parent)}`);
    case 'maxLength':
      return at(`${showValue(v)} is longer than ${String(params.limit)} characters; expected ${expectation(parent)}`);
    case 'pattern':
      return at(`${showValue(v)} is not valid; expected ${expectation(parent)}`);
    default:
      return at(`${showValue(v)}: ${e.message ?? 'invalid'}; expected ${expectation(parent)}`);
  }
}

export function explain(allErrors: readonly ErrorObject[], root: JsonSchema, yaml: YamlSource, data: unknown): Problem[] {
  // An output's type-specific schema is applied through if/then; the "must match then" line
  // only repeats the real problems reported inside it.
  const errors = allErrors.filter((e) => e.keyword !== 'if');
  // A string where -1/0/1 is expected fails both `type` and `enum`; the enum line says it all.
  const hasEnum = new Set(errors.filter((e) => e.keyword === 'enum').map((e) => e.instancePath));
  return errors.filter((e) => !(e.keyword === 'type' && hasEnum.has(e.instancePath))).map((e) => explainOne(e, root, yaml, data));
}
