// `flowgate run [-c config.yaml]`: the gateway. Assembles it from the config, and on SIGINT /
// SIGTERM stops the listeners, saves state and flushes the bus before exiting.

import { loadConfig } from '../config/config';
import { startGateway } from '../runtime/assemble';

export async function runGateway(configFile: string): Promise<void> {
  const config = loadConfig(configFile);
  const running = await startGateway(config);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.log.info({ signal }, 'stopping: flushing buffers and saving state');
    running.stop().then(
      () => {
        running.log.info({}, 'stopped');
        process.exit(0);
      },
      (e: unknown) => {
        running.log.error({ error: String(e) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
