/**
 * The whole marketplace in one process: every service's routes on one HTTP server, each service
 * with its own database on one PostgreSQL server, and one event bus between them. By default the
 * server is an embedded Postgres in DATA_DIR and the bus is in-process, so `npm start` needs
 * nothing installed; DATABASE_URL and NATS_URL switch to real engines.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import {
  buildHttpServer,
  checkPortFree,
  hostOfSetting,
  databaseUrl,
  ensureDatabase,
  InProcessBus,
  JetStreamTransport,
  listenOrExplain,
  oneLine,
  openDatabase,
  prepareService,
  registerService,
  startEmbeddedPostgres,
  SessionRevocations,
  startMetricsServer,
  StartError,
  type HttpHardening,
  type MetricsServer,
  type EmbeddedServer,
  type HttpApp,
  type PreparedService,
  type ServiceDatabase,
  type ServiceModule,
  type SessionLifetimes,
  type Transport,
  type TrustProxy,
  type WindowLimit,
} from '@ticketing/common';
import { authService, type AuthSettings } from '@ticketing/auth';
import { ticketsService, type TicketsSettings } from '@ticketing/tickets';
import { ordersService } from '@ticketing/orders';
import { expirationService } from '@ticketing/expiration';
import { paymentsService, paymentsSettingsFromEnv, type PaymentsSettings } from '@ticketing/payments';
import { ensureWebBuild, serveWebClient, useCompression } from './web.ts';

export interface MarketplaceOptions {
  logger: Logger;
  jwtKey: string;
  secureCookies: boolean;
  port: number;
  host: string;
  /** A Postgres server URL; absent: an embedded server in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /**
   * Port of the embedded Postgres: this one exactly (taken: the start fails, naming
   * EMBEDDED_POSTGRES_PORT); 0: any free port; absent: 54329 when free, else any free port.
   */
  embeddedPostgresPort?: number;
  /** Prefix of the per-service database names (`<prefix>_tickets`, ...). */
  databasePrefix: string;
  /** A NATS URL for JetStream; absent: the in-process bus. */
  natsUrl?: string;
  natsStream: string;
  orderExpirationSeconds: number;
  /** Which proxies may name the client (`TRUST_PROXY`); absent: none. */
  trustProxy?: TrustProxy;
  /** The ceiling per client address on every API route (`RATE_LIMIT_*`); absent: none. */
  ceiling?: WindowLimit;
  /** Settings of the auth and tickets services (their limits, say) instead of the environment's. */
  auth?: Partial<AuthSettings>;
  tickets?: Partial<TicketsSettings>;
  /** Idle and absolute session timeouts; default: 30 minutes and 7 days. */
  sessionLifetimes?: SessionLifetimes;
  /** Payment provider and currency; default: from the environment (Stripe if STRIPE_SECRET_KEY). */
  payments?: PaymentsSettings;
  /** Serve the web client (apps/web) at `/`, building it first when missing or stale. */
  web?: boolean;
  /**
   * Timeouts, headers and what is exposed (`hardeningFromConfig`); development's by default. The
   * CSP lets the web client load Stripe.js when the payments provider is Stripe.
   */
  hardening?: Partial<Omit<HttpHardening, 'stripe'>>;
  /** Serve `/metrics` on this port (on `host`) rather than on the main one. */
  metricsPort?: number;
  /** Aborts the start: what was started is stopped, then `startMarketplace` rejects. */
  signal?: AbortSignal;
}

/** The embedded Postgres's port when EMBEDDED_POSTGRES_PORT is unset and it is free. */
export const DEFAULT_EMBEDDED_POSTGRES_PORT = 54329;

export interface Marketplace {
  url: string;
  /** Where `/metrics` is served when `metricsPort` was given. */
  metricsUrl?: string;
  app: HttpApp;
  transport: Transport;
  services: Record<string, PreparedService>;
  stop(): Promise<void>;
}

/** Title of the marketplace's OpenAPI document. */
export const MARKETPLACE_TITLE = 'ticketing marketplace';

export function marketplaceServices(
  options: Pick<MarketplaceOptions, 'orderExpirationSeconds' | 'logger' | 'auth' | 'tickets'> & {
    payments: PaymentsSettings;
  },
): ServiceModule[] {
  return [
    authService(options.auth),
    ticketsService(options.tickets),
    ordersService({ expirationSeconds: options.orderExpirationSeconds }),
    expirationService(),
    paymentsService(options.payments),
  ];
}

export async function startMarketplace(options: MarketplaceOptions): Promise<Marketplace> {
  const { logger, signal } = options;
  // What has started so far: a failed or aborted start stops it as `stop` would, in the same order.
  let embedded: EmbeddedServer | undefined;
  let transport: Transport | undefined;
  let app: HttpApp | undefined;
  let metrics: MetricsServer | undefined;
  const databases: ServiceDatabase[] = [];
  const services: Record<string, PreparedService> = {};
  // Each step is timed in the log, so a slow shutdown says which part held it.
  const step = async (name: string, run: () => Promise<void>) => {
    const started = Date.now();
    await run();
    logger.debug({ step: name, ms: Date.now() - started }, 'shutdown step done');
  };
  const stop = async () => {
    await step('http', async () => {
      await app?.close(); // no new requests; the ones in flight finish
      await metrics?.close();
    });
    await step('listeners and relays', async () => {
      for (const service of Object.values(services)) await service.stop();
    });
    await step('bus', async () => transport?.close());
    await step('databases', async () => {
      for (const database of databases) await database.close();
    });
    await step('postgres', async () => embedded?.stop());
  };

  try {
    await checkPortFree(options.port, options.host); // before the seconds the rest takes
    // Before anything is started: a failed build then leaves nothing running.
    const webDist = options.web ? await ensureWebBuild(logger, undefined, signal) : undefined;
    let serverUrl = options.databaseUrl;
    const databaseHost =
      serverUrl && hostOfSetting('DATABASE_URL', serverUrl, 'postgres://user:password@host:5432/postgres');
    if (!serverUrl) {
      const fixedPort = options.embeddedPostgresPort;
      embedded = await startEmbeddedPostgres({
        dataDir: path.join(options.dataDir, 'postgres'),
        port: fixedPort,
        preferredPort: fixedPort === undefined ? DEFAULT_EMBEDDED_POSTGRES_PORT : undefined,
        settings: { port: 'EMBEDDED_POSTGRES_PORT', dataDir: 'DATA_DIR' },
        onLog: (message) => logger.info({ component: 'postgres' }, message.trim()),
        onExit: (description) => logger.error({ component: 'postgres' }, description),
        signal,
      });
      serverUrl = embedded.url;
      logger.info(
        { port: embedded.port, dataDir: options.dataDir, cluster: embedded.clusterDir },
        'embedded PostgreSQL started',
      );
    }

    signal?.throwIfAborted();
    const natsUrl = options.natsUrl;
    transport = natsUrl
      ? await JetStreamTransport.connect({ servers: natsUrl, stream: options.natsStream, logger }).catch(
          (error: unknown) => {
            throw new StartError(
              `could not connect to NATS at NATS_URL (${natsUrl}): ${oneLine(error)}; check it, or unset NATS_URL for the in-process bus`,
            );
          },
        )
      : new InProcessBus();

    const payments = options.payments ?? paymentsSettingsFromEnv(logger);
    // One server checks every service's sessions: it refuses what any of their databases holds.
    const revocations = new SessionRevocations();
    for (const module of marketplaceServices({ ...options, payments })) {
      signal?.throwIfAborted();
      const url = databaseUrl(serverUrl, `${options.databasePrefix}_${module.name}`);
      await ensureDatabase(url).catch((error: unknown) => {
        if (!options.databaseUrl) throw error;
        throw new StartError(
          `could not reach the database at DATABASE_URL (${databaseHost}): ${oneLine(error)}; check it, or unset DATABASE_URL for the embedded PostgreSQL`,
        );
      });
      const database = openDatabase(url, { logger: logger.child({ service: module.name }) });
      databases.push(database);
      services[module.name] = await prepareService(module, { database, transport, logger, revocations });
    }
    // Every service has subscribed: now events may flow.
    for (const service of Object.values(services)) service.start();

    const bus = transport;
    app = await buildHttpServer({
      logger,
      jwtKey: options.jwtKey,
      secureCookies: options.secureCookies,
      sessionLifetimes: options.sessionLifetimes,
      revocations,
      title: MARKETPLACE_TITLE,
      service: 'marketplace',
      readiness: {
        ...Object.fromEntries(
          Object.entries(services).map(([name, s]) => [`${name}-database`, () => s.database.ping()]),
        ),
        bus: async () => bus.isHealthy(),
      },
      hardening: {
        ...options.hardening,
        ...(options.metricsPort === undefined ? {} : { metrics: false }),
        stripe: payments.provider.name === 'stripe',
      },
      trustProxy: options.trustProxy,
      // One process: the counts in its memory.
      rateLimits: { ceiling: options.ceiling },
    });
    // Before the routes, whose answers (the API's JSON, the client's files) it compresses.
    await useCompression(app);
    for (const service of Object.values(services)) {
      await registerService(app, service.module, {
        database: service.database,
        logger: logger.child({ service: service.module.name }),
      });
    }
    if (webDist) await serveWebClient(app, webDist);
    signal?.throwIfAborted();
    if (options.metricsPort !== undefined) {
      metrics = await startMetricsServer({
        port: options.metricsPort,
        host: options.host,
        logger,
        production: options.hardening?.production ?? false,
      });
    }
    const address = await listenOrExplain(app, options.port, options.host);
    const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
    const metricsUrl =
      metrics && `${new URL(url).protocol}//${new URL(url).hostname}:${metrics.port}/metrics`;
    return { url, ...(metricsUrl ? { metricsUrl } : {}), app, transport, services, stop };
  } catch (error) {
    await stop().catch((stopError: unknown) =>
      logger.error({ err: stopError }, 'could not stop what had started'),
    );
    throw signal?.aborted ? signal.reason : error;
  }
}
