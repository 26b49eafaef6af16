/**
 * External-tool lookup for tests.
 *
 * Tests that need a command-line tool (tshark, softflowd, pmacctd, nfdump, kcat, ...)
 * call `requireTool()` in a `before()` hook or at the top of the test. A missing tool
 * makes the test FAIL with an actionable message; it never skips silently.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const cache = new Map<string, string>();

function onPath(name: string): string | null {
  // `which` is in debianutils (essential on Debian); fall back to scanning PATH so
  // the lookup also works where `which` itself is missing.
  try {
    const out = execFileSync('which', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const first = out.split('\n')[0];
    if (first && path.isAbsolute(first)) return first;
  } catch {
    // not found by which (exit 1) or which missing: try PATH below
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return path.resolve(candidate);
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Absolute path of the executable `name`, or throw:
 * "<name> not found: install it with `apt-get install <pkg>` (or run scripts/install-test-deps.sh)".
 */
export function requireTool(name: string, aptPackage: string): string {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const found = onPath(name);
  if (found === null) {
    throw new Error(
      `${name} not found: install it with \`apt-get install ${aptPackage}\` (or run scripts/install-test-deps.sh)`,
    );
  }
  cache.set(name, found);
  return found;
}
