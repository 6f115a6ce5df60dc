/** `npm run start:cluster`: the scale-out mode, configured from the environment (see README). */
import { Type } from 'typebox';
import {
  createLogger,
  HardeningSettings,
  hardeningFromConfig,
  loadConfig,
  NodeEnv,
  onShutdown,
  prettyLogs,
  resolveJwtKey,
} from '@ticketing/common';
import { ensureWebBuild } from '@ticketing/marketplace/web';
import { startCluster } from './cluster.ts';
import { EntryChoice } from './entry.ts';
import { StoreSettings } from './settings.ts';

const Config = Type.Object({
  NODE_ENV: NodeEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  REPLICAS: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
  CLUSTER_ENTRY: EntryChoice,
  ...StoreSettings,
  JWT_KEY: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.String({ default: './.data' }),
  ORDER_EXPIRATION_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  ...HardeningSettings,
  // Read by the payments replicas; here, for the web client's CSP (Stripe.js or not).
  STRIPE_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
});

const config = loadConfig(Config);
const hardening = hardeningFromConfig(config, { stripe: config.STRIPE_SECRET_KEY !== undefined });
// The replicas write to a pipe, not the terminal: they are told which form the supervisor's
// own lines take, so that the output reads one way.
const pretty = prettyLogs();
const logger = createLogger('cluster', { pretty });
// The web client, built first when missing or stale (as `npm start` does): a failed build then
// leaves nothing running.
const webDist = await ensureWebBuild(logger);
const cluster = await startCluster({
  logger,
  port: config.PORT,
  host: config.HOST,
  replicas: config.REPLICAS,
  entry: config.CLUSTER_ENTRY,
  databaseUrl: config.DATABASE_URL,
  databasePrefix: config.DATABASE_PREFIX,
  natsUrl: config.NATS_URL,
  natsStream: config.NATS_STREAM,
  jwtKey: resolveJwtKey({ jwtKey: config.JWT_KEY, nodeEnv: config.NODE_ENV, dataDir: config.DATA_DIR }),
  orderExpirationSeconds: config.ORDER_EXPIRATION_SECONDS,
  env: { LOG_PRETTY: pretty ? '1' : '0' },
  webDist,
  hardening,
});
try {
  await cluster.waitUntilReady();
} catch (error) {
  await cluster.stop(); // no replica, no HAProxy left behind
  throw error;
}
logger.info(
  {
    replicas: config.REPLICAS,
    entry: cluster.entry.kind,
    database: config.DATABASE_URL.replace(/\/\/[^@]*@/, '//'),
    nats: config.NATS_URL,
  },
  `ticketing cluster ready at ${cluster.url} (${config.REPLICAS} replicas per service; web client at /${hardening.apiDocs ? ', API docs at /api/docs' : ''})`,
);
onShutdown(logger, () => cluster.stop());
