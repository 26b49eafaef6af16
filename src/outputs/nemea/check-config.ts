// Semantic checks of a nemea output section (the schema checked the shapes): `listen` parses,
// `fields` names known UniRec fields with their NEMEA types.

import { parseListen } from './listen-spec';
import { parseUnirecSpec } from './unirec-template';

export function checkNemeaOutput(o: { listen: string; fields: string }): Array<{ key: string; message: string }> {
  const out: Array<{ key: string; message: string }> = [];
  const l = parseListen(o.listen);
  if (typeof l === 'string') out.push({ key: 'listen', message: l });
  const t = parseUnirecSpec(o.fields);
  if (!t.ok) for (const message of t.errors) out.push({ key: 'fields', message });
  return out;
}
