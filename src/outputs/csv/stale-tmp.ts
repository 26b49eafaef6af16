// start()-time cleanup: temporary files left by a process that died (kill -9, crash, power
// loss). Their records were never reported durable, so the converter framework reads them
// again; the files themselves are only clutter. A file of a live process (another converter
// on the same directory) is left alone. A file carrying this process's own pid but not made by
// it comes from an earlier process that had the same pid (common in containers, where the
// converter is often pid 1 every time) and is stale too.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpNamePattern } from './file-names';

/** Temporary names this process has created (any CsvOutput in it). */
export const OWN_TMP_FILES = new Set<string>();

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // callers exclude this process's own files by name
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes stale temporary files of this prefix from `dir`; returns the names removed. */
export async function removeStaleTmp(dir: string, prefix: string): Promise<string[]> {
  const pattern = tmpNamePattern(prefix);
  const removed: string[] = [];
  for (const name of await fsp.readdir(dir)) {
    const m = pattern.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    if (OWN_TMP_FILES.has(path) || alive(Number(m[1]))) continue;
    try {
      await fsp.unlink(path);
      removed.push(name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return removed;
}
