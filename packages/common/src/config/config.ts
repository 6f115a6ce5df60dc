/**
 * Configuration from the environment: one TypeBox schema per service, validated at start, read
 * through a typed object. A missing or malformed variable stops the process with a message that
 * names it.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
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
  // Written whole under another name, then linked into place: of processes starting together from
  // one directory, one key wins and every one of them reads that one.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, randomBytes(32).toString('base64url'), { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return readFileSync(file, 'utf8').trim();
}

/** The JWT signing key (`JWT_KEY`), as `resolveSecret` resolves one. */
export function resolveJwtKey(options: { jwtKey?: string; nodeEnv: string; dataDir: string }): string {
  return resolveSecret({ name: 'JWT_KEY', file: 'jwt-key', value: options.jwtKey, ...options });
}

/**
 * How long a session lasts, read by every process that serves HTTP (they must agree, like
 * `JWT_KEY`): `SESSION_IDLE_SECONDS` without a request (30 minutes), and
 * `SESSION_MAX_AGE_SECONDS` at most, however active (7 days; at most 30).
 */
export const SessionIdleSeconds = Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600, default: 30 * 60 });
export const SessionMaxAgeSeconds = Type.Integer({
  minimum: 1,
  maximum: 30 * 24 * 3600,
  default: 7 * 24 * 3600,
});
export const SessionSettings = {
  SESSION_IDLE_SECONDS: SessionIdleSeconds,
  SESSION_MAX_AGE_SECONDS: SessionMaxAgeSeconds,
};

/** The session lifetimes of a configuration holding `SessionSettings`. */
export function sessionLifetimesOf(config: {
  SESSION_IDLE_SECONDS: number;
  SESSION_MAX_AGE_SECONDS: number;
}): { idleSeconds: number; absoluteSeconds: number } {
  if (config.SESSION_IDLE_SECONDS > config.SESSION_MAX_AGE_SECONDS) {
    throw new ConfigError(
      'Invalid configuration: SESSION_IDLE_SECONDS must not exceed SESSION_MAX_AGE_SECONDS',
    );
  }
  return {
    idleSeconds: config.SESSION_IDLE_SECONDS,
    absoluteSeconds: config.SESSION_MAX_AGE_SECONDS,
  };
}
