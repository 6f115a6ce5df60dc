/**
 * What a service is, to the runtime: a name (its consumer group), its migrations, its HTTP routes
 * and its listeners. The same module runs alone (`runStandalone`, one process per service, as in
 * containers) or beside the others in the one-process marketplace.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { HttpApp } from './http/server.ts';
import { buildHttpServer } from './http/server.ts';
import { ensureDatabase, migrateDatabase, openDatabase, type ServiceDatabase } from './db/database.ts';
import { OutboxRelay } from './messaging/outbox-relay.ts';
import { purgeInbox, startListeners, type AnyListener } from './messaging/listener.ts';
import { DEFAULT_LISTENER_CONCURRENCY } from './messaging/consumer.ts';
import type { Subscription, Transport } from './messaging/transport.ts';
import { JetStreamTransport } from './messaging/jetstream.ts';
import {
  ConfigError,
  loadConfig,
  NodeEnv,
  resolveJwtKey,
  SessionIdleSeconds,
  sessionLifetimesOf,
  SessionMaxAgeSeconds,
} from './config/config.ts';
import { SessionRevocations } from './sessions/revocations.ts';
import { watchRevocations, type RevocationWatch } from './sessions/revocation-store.ts';
import { hostOfSetting, oneLine, StartError } from './start.ts';
import { createLogger } from './logger.ts';
import { watchService } from './observability/metrics.ts';
import { observeTransport } from './observability/transport.ts';
import { tagServiceRoutes } from './observability/http.ts';
import { startTracingFromEnv } from './observability/tracing.ts';
import { startMetricsServer } from './http/metrics-server.ts';
import { HardeningSettings, hardeningFromConfig } from './http/hardening.ts';
import { ceilingOf, HttpLimitsConfig, trustProxyOf } from './http/rate-limit.ts';

const POSTGRES_URL_EXAMPLE = 'postgres://user:password@host:5432/database';

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
 * Migrates the database and subscribes the listeners; for a service with routes, loads the
 * sessions it refuses into `revocations` (the registry its HTTP server checks) and keeps it current.
 * The relay is returned unstarted: in the one-process mode every service subscribes before any
 * relay publishes, so that no group misses an event published before it existed.
 */
export async function prepareService(
  module: ServiceModule,
  deps: {
    database: ServiceDatabase;
    transport: Transport;
    logger: Logger;
    listenerConcurrency?: number;
    revocations?: SessionRevocations;
  },
): Promise<PreparedService> {
  const logger = deps.logger.child({ service: module.name });
  await migrateDatabase(deps.database, module.migrations);
  const revocationWatch: RevocationWatch | undefined =
    module.routes && deps.revocations
      ? await watchRevocations(deps.database, deps.revocations, logger)
      : undefined;
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
      await revocationWatch?.close();
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
  ...HardeningSettings,
  ...HttpLimitsConfig.properties,
  SESSION_IDLE_SECONDS: SessionIdleSeconds,
  SESSION_MAX_AGE_SECONDS: SessionMaxAgeSeconds,
});

/**
 * Runs one service as its own process: its own database (`DATABASE_URL`, created if missing), the
 * JetStream bus (`NATS_URL`), its HTTP routes on `PORT`. Stops gracefully on SIGTERM/SIGINT; a
 * failure to start is one line on stderr and exit code 1.
 */
export async function runStandalone(module: ServiceModule, env = process.env): Promise<void> {
  const logger = createLogger(module.name);
  await runUntilStopped(logger, module.name, async (signal) => {
    const config = loadConfig(StandaloneConfig, env);
    const trustProxy = trustProxyOf(config.TRUST_PROXY);
    const sessionLifetimes = sessionLifetimesOf(config);
    await checkPortFree(config.PORT, config.HOST);
    const hardening = hardeningFromConfig(config);
    const tracing = await startTracingFromEnv(module.name, env);
    const jwtKey = resolveJwtKey({
      jwtKey: config.JWT_KEY,
      nodeEnv: config.NODE_ENV,
      dataDir: config.DATA_DIR,
    });
    const databaseHost = hostOfSetting('DATABASE_URL', config.DATABASE_URL, POSTGRES_URL_EXAMPLE);
    await ensureDatabase(config.DATABASE_URL).catch((error: unknown) => {
      throw new StartError(
        `could not reach the database at DATABASE_URL (${databaseHost}): ${oneLine(error)}; check that it runs and that DATABASE_URL is right`,
      );
    });
    const database = openDatabase(config.DATABASE_URL, { logger });
    const transport = await JetStreamTransport.connect({
      servers: config.NATS_URL,
      stream: config.NATS_STREAM,
      replicas: config.NATS_STREAM_REPLICAS,
      logger,
    }).catch((error: unknown) => {
      throw new StartError(
        `could not connect to NATS at NATS_URL (${config.NATS_URL}): ${oneLine(error)}; check that it runs and that NATS_URL is right`,
      );
    });
    signal.throwIfAborted();
    const revocations = new SessionRevocations();
    const service = await prepareService(module, {
      database,
      transport,
      logger,
      listenerConcurrency: config.LISTENER_CONCURRENCY,
      revocations,
    });
    service.start();
    const app = await buildHttpServer({
      logger,
      jwtKey,
      secureCookies: config.NODE_ENV === 'production',
      sessionLifetimes,
      revocations,
      title: `ticketing ${module.name}`,
      service: module.name,
      readiness: { database: () => database.ping(), bus: async () => transport.isHealthy() },
      hardening,
      trustProxy,
      // Counted in the service's database, which every replica shares.
      rateLimits: { pool: database.pool, ceiling: ceilingOf(config) },
    });
    await registerService(app, module, { database, logger });
    const metrics =
      config.METRICS_PORT === undefined
        ? undefined
        : await startMetricsServer({
            port: config.METRICS_PORT,
            host: config.HOST,
            logger,
            production: hardening.production,
          });
    await listenOrExplain(app, config.PORT, config.HOST);

    return async () => {
      // Each step is timed in the log, so a slow shutdown says which part held it.
      const step = async (name: string, run: () => Promise<void>) => {
        const started = Date.now();
        await run();
        logger.info({ step: name, ms: Date.now() - started }, 'shutdown step done');
      };
      await step('http', async () => {
        await app.close();
        await metrics?.close();
      });
      await step('listeners and relay', () => service.stop());
      await step('bus', () => transport.close());
      await step('database', () => database.close());
      await step('tracing', () => tracing.shutdown());
    };
  });
}

/** `app.listen`, with a port that is taken or not allowed said in one line naming PORT. */
export async function listenOrExplain(app: HttpApp, port: number, host: string): Promise<string> {
  try {
    return await app.listen({ port, host });
  } catch (error) {
    throw explainListenError(error as Error, port, host);
  }
}

/**
 * Fails now, in the same words as `listenOrExplain`, when `port` cannot be listened on: before
 * a start that takes seconds (a database, migrations) rather than after it.
 */
export async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error) => reject(explainListenError(error, port, host)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function explainListenError(error: Error, port: number, host: string): Error {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new StartError(`port ${port} is in use by another program; set PORT to a free port`);
    case 'EACCES':
      return new StartError(
        `not allowed to listen on port ${port} (below 1024 needs root); set PORT to 1024 or above`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartError(
        `${host} is not an address of this machine; set HOST to one that is, or to 0.0.0.0`,
      );
    default:
      return error;
  }
}

/**
 * Runs a process's `start` and stops what it started on SIGTERM/SIGINT (`onShutdown`). A signal
 * during the start aborts it (`start` is to stop what it began before rejecting). A failure to
 * start is printed as one line on stderr, `<name> could not start: <what failed, what to do>`, and
 * the process exits with code 1.
 */
export async function runUntilStopped(
  logger: Logger,
  name: string,
  start: (signal: AbortSignal) => Promise<() => Promise<void>>,
): Promise<void> {
  const abort = new AbortController();
  const starting = start(abort.signal);
  onShutdown(logger, async () => {
    abort.abort(new Error('stopped while starting'));
    const stop = await starting.catch(() => undefined);
    await stop?.();
  });
  try {
    await starting;
  } catch (error) {
    if (abort.signal.aborted) return; // stopping: onShutdown exits once the start has unwound
    process.stderr.write(`${name} could not start: ${startFailureLine(error)}\n`);
    process.exit(1);
  }
}

/** The line to print for a failed start. */
export function startFailureLine(error: unknown): string {
  if (error instanceof StartError || error instanceof ConfigError) return error.message;
  return oneLine(error);
}

/** How long a second signal is taken as a copy of the first: npm forwards the one a terminal sends. */
const DUPLICATE_SIGNAL_MS = 1_000;

/**
 * Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal (a second or more after the
 * first) or 15 s force the exit.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stoppingSince: number | undefined;
  const handler = (signal: string) => {
    if (stoppingSince !== undefined) {
      // `npm start` passes on the SIGINT of a Ctrl-C, or the SIGTERM sent to its whole process
      // group, that this process got too: the same request, not a second one.
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_MS) return;
      process.exit(1);
    }
    stoppingSince = Date.now();
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
