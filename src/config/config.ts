// Loading config.yaml: YAML → JSON Schema (ajv, filling in defaults) → semantic checks and
// environment → GatewayConfig. Every mistake found is reported at once, one line each,
// through ConfigError.

import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import { buildConfig } from './build';
import { explain } from './explain';
import { envBrokers, type Env } from './kafka-section';
import { ConfigError, ConfigReadError, renderProblems } from './problems';
import { CONFIG_SCHEMA, EXPECTED_KEYWORD, type FileConfig, type JsonSchema } from './schema';
import type { GatewayConfig } from './types';
import { readYaml } from './yaml-source';

export { ConfigError, ConfigReadError } from './problems';
export { CONFIG_SCHEMA, DEFAULT_DECODER_CONFIG } from './schema';
export type {
  Compression, DecoderConfig, Framing, GatewayConfig, KafkaConfig, KafkaSaslConfig, KafkaTlsConfig, KeyMode, ListenerConfig, LogConfig, MetricsConfig, StateConfig,
} from './types';

// Two compiled variants: with FLOWGATE_KAFKA_BROKERS set, a kafka section may leave brokers out.
const validators = new Map<boolean, ValidateFunction<FileConfig>>();

function validatorFor(brokersFromEnv: boolean): ValidateFunction<FileConfig> {
  let v = validators.get(brokersFromEnv);
  if (!v) {
    const schema: JsonSchema = structuredClone(CONFIG_SCHEMA);
    const kafka = schema.properties?.kafka;
    if (brokersFromEnv && kafka) kafka.required = [];
    // verbose: errors carry the failing schema and value, which the messages are worded from.
    const ajv = new Ajv({ useDefaults: true, allErrors: true, verbose: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: EXPECTED_KEYWORD, schemaType: 'string' });
    v = ajv.compile<FileConfig>(schema);
    validators.set(brokersFromEnv, v);
  }
  return v;
}

/**
 * Validates config.yaml text and returns the configuration with every default filled in.
 * `source` names the file in messages; `env` supplies the overrides and secrets
 * (FLOWGATE_KAFKA_BROKERS, FLOWGATE_KAFKA_USERNAME, the variable named by password_env).
 * Throws ConfigError listing every problem found.
 */
export function parseConfig(text: string, source = 'config.yaml', env: Env = process.env): GatewayConfig {
  const yaml = readYaml(text);
  if (yaml.problems.length) throw new ConfigError(renderProblems(source, yaml.problems));
  const data = yaml.data;
  if (data === null || data === undefined) {
    throw new ConfigError(`${source}: the file is empty; it needs at least a listeners list, e.g. listeners: [{ listen: "0.0.0.0:2055" }]`);
  }
  const validate = validatorFor(envBrokers(env) !== undefined);
  if (!validate(data)) throw new ConfigError(renderProblems(source, explain(validate.errors ?? [], CONFIG_SCHEMA, yaml, data)));
  const { config, problems } = buildConfig(data, env, yaml.lineOf);
  if (problems.length) throw new ConfigError(renderProblems(source, problems));
  return config;
}

/** parseConfig on a file. An unreadable file throws ConfigReadError (a ConfigError). */
export function loadConfig(file: string, env: Env = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigReadError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseConfig(text, file, env);
}
