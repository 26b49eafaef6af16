// The problems parseConfig reports for a config text, for tests that check refusals.

import { ConfigError, parseConfig } from '../../src/config/config';

export function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'c.yaml', env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
