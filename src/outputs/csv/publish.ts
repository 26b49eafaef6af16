// Publishing a finished temporary file under its final name without ever replacing an existing
// file: a restarted converter (or a second one on the same directory) may write a window that
// already has files, and overwriting one would lose records whose offsets were committed.
// link() fails with EEXIST instead of replacing, so the next part number is tried.

import { existsSync, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Moves `tmpPath` to `nameFor(part)` in the same directory, for the first part from
 * `firstPart` that is free, and makes the directory entry durable. Returns the part used.
 */
export async function publish(tmpPath: string, nameFor: (part: number) => string, firstPart: number): Promise<number> {
  const dir = dirname(tmpPath);
  for (let part = firstPart; ; part++) {
    const target = join(dir, nameFor(part));
    try {
      await fsp.link(tmpPath, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      // Filesystems without hard links (some FUSE/SMB mounts): check, then rename. Not atomic
      // against another process, but still never overwrites a file this check can see.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        if (existsSync(target)) continue;
        await fsp.rename(tmpPath, target);
        await syncDir(dir);
        return part;
      }
      throw e;
    }
    await fsp.unlink(tmpPath);
    await syncDir(dir);
    return part;
  }
}

/** fsync of the directory, so the new name survives a power loss. */
async function syncDir(dir: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  } finally {
    await h?.close().catch(() => undefined);
  }
}
