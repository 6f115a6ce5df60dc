/**
 * What a service is, to the runtime: a name (its consumer group), its migrations, its HTTP routes
 * and its listeners. The same module runs alone (`runStandalone`, one process per service, as in
 * containers) or beside the others in the one-process marketplace.
 */
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { HttpApp } from './http/server.ts';
import { buildHttpServer } from './http/server.ts';
import { ensureDatabase, migrateDatabase, openDatabase, type ServiceDatabase } from './db/database.ts';
import { OutboxRelay } from './messaging/outbox.ts';
import { purgeInbox, startListeners, type AnyListener } from './messaging/listener.ts';
import { DEFAULT_LISTENER_CONCURRENCY } from './messaging/consumer.ts';
import type { Subscription, Transport } from './messaging/transport.ts';
import { JetStreamTransport } from './messaging/jetstream.ts';
import { loadConfig, NodeEnv, resolveJwtKey } from './config/config.ts';
import { createLogger } from './logger.ts';
import { watchService } from './observability/metrics.ts';
import { observeTransport } from './observability/transport.ts';
import { tagServiceRoutes } from './observability/http.ts';
import { startTracingFromEnv } from './observability/tracing.ts';

export interface ServiceContext {
  database: ServiceDatabase;
  logger: Logger;
}

/** Work a service does on its own schedule (timers, reconciliation), stopped before its listeners. */
export interface BackgroundTask {
  stop(): Promise<void>;
}

export interface ServiceModule {
  /** Also the consumer group shared by every replica of the service. */
  name: string;
  /** Folder of the service's committed SQL migrations. */
  migrations: string;
  routes?: (app: HttpApp, context: ServiceContext) => Promise<void>;
  listeners?: readonly AnyListener[];
  background?: (context: ServiceContext) => BackgroundTask;
}

export interface PreparedService {
  module: ServiceModule;
  database: ServiceDatabase;
  relay: OutboxRelay;
  /** Starts the outbox relay and the background tasks. */
  start(): void;
  /**
   * Stops background tasks, then listeners (after their in-flight events), then the relay (after
   * its in-flight publishes, which it records as sent).
   */
  stop(): Promise<void>;
}

/**
 * Migrates the database and subscribes the listeners. The relay is returned unstarted: in the
 * one-process mode every service subscribes before any relay publishes, so that no group misses
 * an event published before it existed.
 */
export async function prepareService(
  module: ServiceModule,
  deps: { database: ServiceDatabase; transport: Transport; logger: Logger; listenerConcurrency?: number },
): Promise<PreparedService> {
  const logger = deps.logger.child({ service: module.name });
  await migrateDatabase(deps.database, module.migrations);
  const transport = observeTransport(deps.transport, module.name); // counted and traced
  const relay = new OutboxRelay({ database: deps.database, transport, logger });
  const listeners: Subscription = await startListeners({
    group: module.name,
    database: deps.database,
    transport,
    listeners: module.listeners ?? [],
    logger,
    concurrency: deps.listenerConcurrency,
  });
  let background: BackgroundTask | undefined;
  let unwatch: (() => void) | undefined;
  let purging: NodeJS.Timeout | undefined;
  return {
    module,
    database: deps.database,
    relay,
    start() {
      relay.start();
      unwatch = watchService({ service: module.name, database: deps.database, transport: deps.transport });
      background = module.background?.({ database: deps.database, logger });
      // Inbox rows (and attempt-ledger lines) older than any redelivery could be: a minute after
      // start, then every hour.
      const purge = () => {
        purgeInbox(deps.database).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not purge the inbox; will try again'),
        );
      };
      purging = setTimeout(() => {
        purge();
        purging = setInterval(purge, 3_600_000).unref();
      }, 60_000).unref();
    },
    async stop() {
      clearTimeout(purging); // clears an interval too
      unwatch?.();
      await background?.stop();
      await listeners.close();
      await relay.stop();
    },
  };
}

export async function registerService(
  app: HttpApp,
  module: ServiceModule,
  context: ServiceContext,
): Promise<void> {
  if (module.routes) {
    await app.register(async (scope) => {
      tagServiceRoutes(scope, module.name);
      await module.routes!(scope, context);
    });
  }
}

export const StandaloneConfig = Type.Object({
  NODE_ENV: NodeEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATABASE_URL: Type.String({ minLength: 1 }),
  NATS_URL: Type.String({ minLength: 1 }),
  NATS_STREAM: Type.String({ default: 'TICKETING' }),
  /** Copies of the stream on a NATS cluster; unset keeps what the stream has (1 when created). */
  NATS_STREAM_REPLICAS: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  JWT_KEY: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.String({ default: './.data' }),
  LISTENER_CONCURRENCY: Type.Integer({ minimum: 1, default: DEFAULT_LISTENER_CONCURRENCY }),
});

/**
 * Runs one service as its own process: its own database (`DATABASE_URL`, created if missing), the
 * JetStream bus (`NATS_URL`), its HTTP routes on `PORT`. Stops gracefully on SIGTERM/SIGINT.
 */
export async function runStandalone(module: ServiceModule, env = process.env): Promise<void> {
  const config = loadConfig(StandaloneConfig, env);
  const logger = createLogger(module.name);
  const tracing = await startTracingFromEnv(module.name, env);
  const jwtKey = resolveJwtKey({
    jwtKey: config.JWT_KEY,
    nodeEnv: config.NODE_ENV,
    dataDir: config.DATA_DIR,
  });
  await ensureDatabase(config.DATABASE_URL);
  const database = openDatabase(config.DATABASE_URL, { logger });
  const transport = await JetStreamTransport.connect({
    servers: config.NATS_URL,
    stream: config.NATS_STREAM,
    replicas: config.NATS_STREAM_REPLICAS,
    logger,
  });
  const service = await prepareService(module, {
    database,
    transport,
    logger,
    listenerConcurrency: config.LISTENER_CONCURRENCY,
  });
  service.start();
  const app = await buildHttpServer({
    logger,
    jwtKey,
    secureCookies: config.NODE_ENV === 'production',
    title: `ticketing ${module.name}`,
    service: module.name,
    readiness: { database: () => database.ping(), bus: async () => transport.isHealthy() },
  });
  await registerService(app, module, { database, logger });
  await app.listen({ port: config.PORT, host: config.HOST });

  onShutdown(logger, async () => {
    // Each step is timed in the log, so a slow shutdown says which part held it.
    const step = async (name: string, run: () => Promise<void>) => {
      const started = Date.now();
      await run();
      logger.info({ step: name, ms: Date.now() - started }, 'shutdown step done');
    };
    await step('http', () => app.close());
    await step('listeners and relay', () => service.stop());
    await step('bus', () => transport.close());
    await step('database', () => database.close());
    await step('tracing', () => tracing.shutdown());
  });
}

/** Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal or 15 s forces the exit. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, 15_000);
    force.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
