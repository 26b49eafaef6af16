// Template/sampling state in `state.directory`/templates.json. Written atomically (temp
// file, fsync, rename, fsync of the directory) so a crash mid-write leaves the previous
// file, never a torn one.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseExporterState, STATE_FORMAT, type ExporterState } from './state-snapshot';

export const STATE_FILE = 'templates.json';

interface StateFile {
  format: typeof STATE_FORMAT;
  saved_at: string;
  exporters: unknown[];
}

export class FileStateStore {
  readonly file: string;

  constructor(readonly directory: string) {
    this.file = join(directory, STATE_FILE);
  }

  /** Documents from the file; a missing file is an empty state, a bad one an error. */
  load(): { docs: ExporterState[]; rejected: string[] } {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { docs: [], rejected: [] };
      throw new Error(`state file ${this.file}: cannot read: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`state file ${this.file}: not JSON (${(e as Error).message}); move it away to start with empty state`);
    }
    const f = parsed as Partial<StateFile>;
    if (f.format !== STATE_FORMAT || !Array.isArray(f.exporters)) {
      throw new Error(`state file ${this.file}: not a ${STATE_FORMAT} file; move it away to start with empty state`);
    }
    const docs: ExporterState[] = [];
    const rejected: string[] = [];
    for (const x of f.exporters) {
      const d = parseExporterState(x);
      if (typeof d === 'string') rejected.push(d);
      else docs.push(d);
    }
    return { docs, rejected };
  }

  save(docs: Iterable<ExporterState>): void {
    mkdirSync(this.directory, { recursive: true });
    const body: StateFile = { format: STATE_FORMAT, saved_at: new Date().toISOString(), exporters: [...docs] };
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, JSON.stringify(body));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    try {
      const dfd = openSync(this.directory, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // Some filesystems refuse fsync on directories; the rename itself is still atomic.
    }
  }
}
