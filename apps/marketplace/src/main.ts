/**
 * `npm start`: the marketplace in one process, configured from the environment (see README).
 * SIGTERM or SIGINT stops it, the embedded Postgres last, even in the middle of its start; a
 * failure to start is one line on stderr and exit code 1, with nothing left running.
 */
import { Type } from 'typebox';
import {
  ceilingOf,
  createLogger,
  HardeningSettings,
  hardeningFromConfig,
  HttpLimitsConfig,
  loadConfig,
  NodeEnv,
  resolveJwtKey,
  runUntilStopped,
  sessionLifetimesOf,
  SessionSettings,
  startTracingFromEnv,
  trustProxyOf,
} from '@ticketing/common';
import { startMarketplace } from './marketplace.ts';

const Config = Type.Object({
  NODE_ENV: NodeEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATA_DIR: Type.String({ default: './.data' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_PREFIX: Type.String({ pattern: '^[a-z][a-z0-9_]*$', default: 'ticketing' }),
  // Unset: 54329 when free, else any free port; 0: any free port.
  EMBEDDED_POSTGRES_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  NATS_URL: Type.Optional(Type.String({ minLength: 1 })),
  NATS_STREAM: Type.String({ default: 'TICKETING' }),
  JWT_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ORDER_EXPIRATION_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  ...HardeningSettings,
  ...HttpLimitsConfig.properties,
  ...SessionSettings,
});

const logger = createLogger('marketplace');
stopWhenNpmIsGone();
await runUntilStopped(logger, 'marketplace', async (signal) => {
  const config = loadConfig(Config);
  // OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set; off otherwise.
  const tracing = await startTracingFromEnv('marketplace');
  const marketplace = await startMarketplace({
    logger,
    jwtKey: resolveJwtKey({ jwtKey: config.JWT_KEY, nodeEnv: config.NODE_ENV, dataDir: config.DATA_DIR }),
    secureCookies: config.NODE_ENV === 'production',
    port: config.PORT,
    host: config.HOST,
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPostgresPort: config.EMBEDDED_POSTGRES_PORT,
    databasePrefix: config.DATABASE_PREFIX,
    natsUrl: config.NATS_URL,
    natsStream: config.NATS_STREAM,
    orderExpirationSeconds: config.ORDER_EXPIRATION_SECONDS,
    hardening: hardeningFromConfig(config),
    metricsPort: config.METRICS_PORT,
    trustProxy: trustProxyOf(config.TRUST_PROXY),
    ceiling: ceilingOf(config),
    sessionLifetimes: sessionLifetimesOf(config),
    web: true,
    signal,
  });
  const docs = hardeningFromConfig(config).apiDocs ? ', API docs at /api/docs' : '';
  logger.info(
    { bus: marketplace.transport.kind, database: config.DATABASE_URL ? 'external' : 'embedded' },
    `ticketing marketplace ready at ${marketplace.url} (web client at /${docs})`,
  );
  return async () => {
    await marketplace.stop();
    await tracing.shutdown();
  };
});

/**
 * npm passes SIGINT and SIGTERM on to the marketplace, but an npm killed with SIGKILL passes on
 * nothing and the marketplace would run on, orphaned. Started by npm, it stops when npm is gone.
 */
function stopWhenNpmIsGone(): void {
  if (!process.env.npm_lifecycle_event) return;
  const npm = process.ppid;
  const gone = () => {
    try {
      process.kill(npm, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  const watch = setInterval(() => {
    if (!gone()) return;
    clearInterval(watch);
    logger.warn({ npm }, 'npm, which started the marketplace, is gone: stopping');
    process.kill(process.pid, 'SIGTERM');
  }, 1_000);
  watch.unref();
}
