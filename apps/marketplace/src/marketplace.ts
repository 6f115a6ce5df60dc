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
  databaseUrl,
  ensureDatabase,
  InProcessBus,
  JetStreamTransport,
  openDatabase,
  prepareService,
  registerService,
  startEmbeddedPostgres,
  type EmbeddedServer,
  type HttpApp,
  type PreparedService,
  type ServiceModule,
  type Transport,
} from '@ticketing/common';
import { authService } from '@ticketing/auth';
import { ticketsService } from '@ticketing/tickets';
import { ordersService } from '@ticketing/orders';
import { expirationService } from '@ticketing/expiration';
import { paymentsService, paymentsSettingsFromEnv, type PaymentsSettings } from '@ticketing/payments';
import { ensureWebBuild, serveWebClient } from './web.ts';

export interface MarketplaceOptions {
  logger: Logger;
  jwtKey: string;
  secureCookies: boolean;
  port: number;
  host: string;
  /** A Postgres server URL; absent: an embedded server in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  embeddedPostgresPort: number;
  /** Prefix of the per-service database names (`<prefix>_tickets`, ...). */
  databasePrefix: string;
  /** A NATS URL for JetStream; absent: the in-process bus. */
  natsUrl?: string;
  natsStream: string;
  orderExpirationSeconds: number;
  /** Payment provider and currency; default: from the environment (Stripe if STRIPE_SECRET_KEY). */
  payments?: PaymentsSettings;
  /** Serve the web client (apps/web) at `/`, building it first when missing or stale. */
  web?: boolean;
}

export interface Marketplace {
  url: string;
  app: HttpApp;
  transport: Transport;
  services: Record<string, PreparedService>;
  stop(): Promise<void>;
}

/** Title of the marketplace's OpenAPI document. */
export const MARKETPLACE_TITLE = 'ticketing marketplace';

export function marketplaceServices(
  options: Pick<MarketplaceOptions, 'orderExpirationSeconds' | 'payments' | 'logger'>,
): ServiceModule[] {
  return [
    authService(),
    ticketsService(),
    ordersService({ expirationSeconds: options.orderExpirationSeconds }),
    expirationService(),
    paymentsService(options.payments ?? paymentsSettingsFromEnv(options.logger)),
  ];
}

export async function startMarketplace(options: MarketplaceOptions): Promise<Marketplace> {
  const { logger } = options;
  // Before anything is started: a failed build then leaves nothing running.
  const webDist = options.web ? await ensureWebBuild(logger) : undefined;
  let embedded: EmbeddedServer | undefined;
  let serverUrl = options.databaseUrl;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(options.dataDir, 'postgres'),
      port: options.embeddedPostgresPort,
      onLog: (message) => logger.debug({ component: 'postgres' }, message.trim()),
    });
    serverUrl = embedded.url;
    logger.info(
      { port: options.embeddedPostgresPort, dataDir: options.dataDir },
      'embedded PostgreSQL started',
    );
  }

  const transport: Transport = options.natsUrl
    ? await JetStreamTransport.connect({ servers: options.natsUrl, stream: options.natsStream, logger })
    : new InProcessBus();

  const modules = marketplaceServices(options);
  const services: Record<string, PreparedService> = {};
  for (const module of modules) {
    const url = databaseUrl(serverUrl, `${options.databasePrefix}_${module.name}`);
    await ensureDatabase(url);
    const database = openDatabase(url, { logger: logger.child({ service: module.name }) });
    services[module.name] = await prepareService(module, { database, transport, logger });
  }
  // Every service has subscribed: now events may flow.
  for (const service of Object.values(services)) service.start();

  const app = await buildHttpServer({
    logger,
    jwtKey: options.jwtKey,
    secureCookies: options.secureCookies,
    title: MARKETPLACE_TITLE,
    service: 'marketplace',
    readiness: {
      ...Object.fromEntries(
        Object.entries(services).map(([name, s]) => [`${name}-database`, () => s.database.ping()]),
      ),
      bus: async () => transport.isHealthy(),
    },
  });
  for (const service of Object.values(services)) {
    await registerService(app, service.module, {
      database: service.database,
      logger: logger.child({ service: service.module.name }),
    });
  }
  if (webDist) await serveWebClient(app, webDist);
  const address = await app.listen({ port: options.port, host: options.host });
  const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');

  return {
    url,
    app,
    transport,
    services,
    async stop() {
      await app.close(); // no new requests; the ones in flight finish
      for (const service of Object.values(services)) await service.stop(); // listeners, then relays
      await transport.close();
      for (const service of Object.values(services)) await service.database.close();
      await embedded?.stop();
    },
  };
}
