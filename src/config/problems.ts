// What the config checks produce: one problem per mistake, each rendered as one line
// "FILE: PATH: what is wrong and what is allowed (line N)", so an operator can fix every
// mistake from one run of `flowgate check-config`.

export type PathSegment = string | number;

export interface Problem {
  /** Where in the file: ['kafka', 'brokers', 0]; empty for the whole file. */
  path: PathSegment[];
  message: string;
  /** 1-based line in the YAML text, when the path can be found there. */
  line?: number;
}

export class ConfigError extends Error {
  /** One rendered line per problem; `message` is these lines joined by newlines. */
  readonly problems: string[];

  constructor(problems: string | readonly string[]) {
    const lines = typeof problems === 'string' ? [problems] : [...problems];
    super(lines.join('\n'));
    this.name = 'ConfigError';
    this.problems = lines;
  }
}

/** The file could not be read at all (as opposed to read and found wrong). */
export class ConfigReadError extends ConfigError {
  constructor(problem: string) {
    super(problem);
    this.name = 'ConfigReadError';
  }
}

/** ['listeners', 0, 'listen'] → "listeners[0].listen". */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

export function renderProblem(source: string, p: Problem): string {
  const where = p.path.length ? `${source}: ${formatPath(p.path)}` : source;
  return `${where}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`;
}

/** Problems in file order (those without a line last), duplicates dropped, rendered. */
export function renderProblems(source: string, problems: readonly Problem[]): string[] {
  const ordered = problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => renderProblem(source, p));
  return [...new Set(ordered)];
}

/** A value as the operator wrote it, short enough for one line. */
export function showValue(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
