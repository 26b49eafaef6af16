// A UniRec template: the `fields` spec parsed, checked against the known fields and laid out as
// UniRec lays out a record. Fixed-size fields come first, sorted by size descending then by name;
// each variable-length field then has a 4-byte slot (u16 LE offset from the end of the fixed
// part, u16 LE length), in name order; the variable data follows the fixed part in slot order.
// The spec string a client receives lists the fields in that same order.

import { closest } from '../../config/suggest';
import { TYPE_SIZE, UNIREC_FIELDS, type FieldSource, type UnirecType } from './unirec-fields';

export interface TemplateField {
  name: string;
  type: UnirecType;
  /** Offset of the value (fixed) or of the 4-byte slot (variable) in the record. */
  offset: number;
  /** Fixed size; 0 for variable-length fields. */
  size: number;
  source: FieldSource;
}

export interface UnirecTemplate {
  /** `type NAME` pairs joined by `,`, in record order: what the hello announces. */
  spec: string;
  fixed: TemplateField[];
  variable: TemplateField[];
  /** Bytes of the fixed part (fixed fields + variable slots). */
  fixedSize: number;
}

export type ParseResult = { ok: true; template: UnirecTemplate } | { ok: false; errors: string[] };

const allowedList = (): string => Object.entries(UNIREC_FIELDS).map(([n, d]) => `${d.type} ${n}`).join(', ');

export function parseUnirecSpec(spec: string): ParseResult {
  const errors: string[] = [];
  const seen = new Set<string>();
  const fields: Array<Omit<TemplateField, 'offset'>> = [];
  const items = spec.split(',').map((s) => s.trim());
  for (const item of items) {
    const m = /^(\S+)\s+(\S+)$/.exec(item);
    if (!m) {
      errors.push(`${JSON.stringify(item)} is not "type NAME"; write e.g. "ipaddr SRC_IP,uint16 SRC_PORT"`);
      continue;
    }
    const [, type, name] = m;
    const def = Object.prototype.hasOwnProperty.call(UNIREC_FIELDS, name) ? UNIREC_FIELDS[name] : undefined;
    if (!def) {
      const near = closest(name, Object.keys(UNIREC_FIELDS));
      errors.push(`unknown UniRec field ${JSON.stringify(name)}${near ? ` (did you mean "${UNIREC_FIELDS[near].type} ${near}"?)` : ''}; known fields: ${allowedList()}`);
      continue;
    }
    if (type !== def.type) {
      errors.push(`${name} has type ${def.type} (NEMEA modules reject another type), not ${JSON.stringify(type)}; write "${def.type} ${name}"`);
      continue;
    }
    if (seen.has(name)) {
      errors.push(`${name} is listed twice; list each field once`);
      continue;
    }
    seen.add(name);
    fields.push({ name, type: def.type, size: TYPE_SIZE[def.type], source: def.source });
  }
  if (errors.length) return { ok: false, errors };
  if (fields.length === 0) return { ok: false, errors: ['no fields; give at least one, e.g. "ipaddr SRC_IP"'] };
  return { ok: true, template: layout(fields) };
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function layout(fields: ReadonlyArray<Omit<TemplateField, 'offset'>>): UnirecTemplate {
  const fixedIn = fields.filter((f) => f.size > 0).sort((a, b) => b.size - a.size || byName(a, b));
  const varIn = fields.filter((f) => f.size === 0).sort(byName);
  let offset = 0;
  const fixed: TemplateField[] = [];
  for (const f of fixedIn) {
    fixed.push({ ...f, offset });
    offset += f.size;
  }
  const variable: TemplateField[] = [];
  for (const f of varIn) {
    variable.push({ ...f, offset });
    offset += 4;
  }
  const spec = [...fixed, ...variable].map((f) => `${f.type} ${f.name}`).join(',');
  return { spec, fixed, variable, fixedSize: offset };
}
