// `flowgate run [-c config.yaml]`: the gateway. Today: UDP listeners into the embedded bus
// with a periodic summary; Kafka, metrics and state persistence come with issue #3.

import { EmbeddedBus } from '../bus/embedded-bus';
import { loadConfig } from '../config/config';
import { Gateway } from '../runtime/gateway';

export async function runGateway(configFile: string): Promise<void> {
  const config = loadConfig(configFile);
  const gateway = new Gateway(config, new EmbeddedBus());
  await gateway.start();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'stopping', signal })}\n`);
    gateway.stop().then(() => process.exit(0), (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
