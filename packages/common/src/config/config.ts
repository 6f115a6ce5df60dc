/**
 * Configuration from the environment: one TypeBox schema per service, validated at start, read
 * through a typed object. A missing or malformed variable stops the process with a message that
 * names it.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Type, type Static, type TObject, type TProperties } from 'typebox';
import { Compile } from 'typebox/compile';

export class ConfigError extends Error {}

export function loadConfig<T extends TObject<TProperties>>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): Static<T> {
  const validator = Compile(schema);
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties))
    if (env[key] !== undefined && env[key] !== '') raw[key] = env[key];
  const value = validator.Convert(validator.Default(raw));
  if (!validator.Check(value)) {
    const problems = validator.Errors(value).map((e) => {
      const name =
        e.instancePath.replace(/^\//, '') ||
        String((e.params as { requiredProperties?: string[] }).requiredProperties?.join(', ') ?? '');
      return `${name}: ${e.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return value;
}

export const NodeEnv = Type.Union(
  [Type.Literal('development'), Type.Literal('production'), Type.Literal('test')],
  {
    default: 'development',
  },
);

/**
 * A secret key named `name`. In production it must come from the environment, at least 32
 * characters long. In development a random key is generated once and kept in `dataDir` (in the
 * file `file`), so it survives restarts and every process started from the same directory shares
 * it; it is never used when NODE_ENV=production.
 */
export function resolveSecret(options: {
  name: string;
  file: string;
  value?: string;
  nodeEnv: string;
  dataDir: string;
}): string {
  const { name, value } = options;
  if (value) {
    if (options.nodeEnv === 'production' && value.length < 32) {
      throw new ConfigError(`${name} must be at least 32 characters in production`);
    }
    return value;
  }
  if (options.nodeEnv === 'production') throw new ConfigError(`${name} is required when NODE_ENV=production`);
  const file = path.resolve(options.dataDir, options.file);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

/** The JWT signing key (`JWT_KEY`), as `resolveSecret` resolves one. */
export function resolveJwtKey(options: { jwtKey?: string; nodeEnv: string; dataDir: string }): string {
  return resolveSecret({ name: 'JWT_KEY', file: 'jwt-key', value: options.jwtKey, ...options });
}
