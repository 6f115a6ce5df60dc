/** `npm start`: the marketplace in one process, configured from the environment (see README). */
import { Type } from 'typebox';
import {
  createLogger,
  loadConfig,
  NodeEnv,
  onShutdown,
  resolveJwtKey,
  startTracingFromEnv,
} from '@ticketing/common';
import { startMarketplace } from './marketplace.ts';

const Config = Type.Object({
  NODE_ENV: NodeEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATA_DIR: Type.String({ default: './.data' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_PREFIX: Type.String({ pattern: '^[a-z][a-z0-9_]*$', default: 'ticketing' }),
  EMBEDDED_POSTGRES_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 54329 }),
  NATS_URL: Type.Optional(Type.String({ minLength: 1 })),
  NATS_STREAM: Type.String({ default: 'TICKETING' }),
  JWT_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ORDER_EXPIRATION_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
});

const config = loadConfig(Config);
const logger = createLogger('marketplace');
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
  web: true,
});
logger.info(
  { bus: marketplace.transport.kind, database: config.DATABASE_URL ? 'external' : 'embedded' },
  `ticketing marketplace ready at ${marketplace.url} (web client at /, API docs at /api/docs)`,
);
onShutdown(logger, async () => {
  await marketplace.stop();
  await tracing.shutdown();
});
