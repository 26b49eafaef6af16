// The netflow9 output's config checks that a schema cannot express: target addresses, the
// template file (exists, parses, every field writable), and an MTU large enough for the
// templates plus one record. Run by `check-config` and at start, so errors name the key.

import { resolve } from 'node:path';
import type { FileNetflow9Output } from '../../config/schema';
import { minimumMtu } from './packet-plan';
import { parseTarget } from './targets';
import { DEFAULT_TEMPLATE_FILE, loadExportTemplates } from './template-file';

export interface Netflow9Problem {
  path: Array<string | number>;
  message: string;
}

export function checkNetflow9(o: FileNetflow9Output): { problems: Netflow9Problem[]; templateFile: string } {
  const problems: Netflow9Problem[] = [];
  o.targets.forEach((t, j) => {
    const r = parseTarget(t);
    if (typeof r === 'string') problems.push({ path: ['targets', j], message: r });
  });
  const seen = new Set<string>();
  o.targets.forEach((t, j) => {
    if (seen.has(t)) problems.push({ path: ['targets', j], message: `${JSON.stringify(t)} is listed twice; each collector would get every packet twice` });
    seen.add(t);
  });
  const templateFile = o.template_file === undefined ? DEFAULT_TEMPLATE_FILE : resolve(o.template_file);
  try {
    // Read by the name as written, so messages show the operator's own path.
    const t = loadExportTemplates(o.template_file ?? templateFile);
    const need = minimumMtu(t);
    if (o.mtu < need) problems.push({ path: ['mtu'], message: `${o.mtu} is too small for the templates of ${templateFile} and one record; use at least ${need}` });
  } catch (e) {
    problems.push({ path: ['template_file'], message: `${(e as Error).message}; fix the file or point template_file at a valid one (see templates/netflow9-export.yaml)` });
  }
  return { problems, templateFile };
}
