// Locates files shipped with the package (codecs/, templates/) whether we run from dist/ or
// from an installed package: walk up from this module until the directory holding codecs/.

import { existsSync } from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'codecs', 'flow.proto')) && existsSync(path.join(dir, 'package.json'))) {
      cached = dir;
      return dir;
    }
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the flowgate package root (codecs/flow.proto) above ${__dirname}`);
}

export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}
