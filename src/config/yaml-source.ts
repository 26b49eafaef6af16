// YAML text → plain data, keeping the document so later problems can point at a line.

import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { PathSegment, Problem } from './problems';

export interface YamlSource {
  data: unknown;
  /** Syntax errors (each with its line and column); data is unusable when there are any. */
  problems: Problem[];
  /** Line of the value at path or, failing that, of its nearest ancestor below the root. */
  lineOf(path: readonly PathSegment[]): number | undefined;
  /** Line of the key `key` inside the mapping at path (for unknown-key problems). */
  lineOfKey(path: readonly PathSegment[], key: string): number | undefined;
}

export function readYaml(text: string): YamlSource {
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is a mistake (YAML would silently keep the last one).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    // prettyErrors appends " at line L, column C:" and a code excerpt; we print the position ourselves.
    const what = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return { path: [], message: `YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${what}` };
  });
  const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lines.linePos(offset).line);
  return {
    data: problems.length ? undefined : doc.toJS(),
    problems,
    lineOf: (path) => {
      for (let n = path.length; n >= 1; n--) {
        const node = nodeAt(doc, path.slice(0, n));
        if (node) return lineAt(node.range?.[0]);
      }
      return undefined;
    },
    lineOfKey: (path, key) => {
      const node = nodeAt(doc, path);
      const pair = isMap(node) ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === key) : undefined;
      return pair && isScalar(pair.key) ? lineAt(pair.key.range?.[0]) : undefined;
    },
  };
}

// The node at path (the document root for the empty path), if the text has one there.
function nodeAt(doc: Document, path: readonly PathSegment[]): Node | undefined {
  const node: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return isNode(node) ? node : undefined;
}
