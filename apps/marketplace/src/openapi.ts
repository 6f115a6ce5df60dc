/**
 * The marketplace's OpenAPI document as `GET /api/docs/json` serves it, built without a database,
 * a bus or a port: every service's routes registered on the same server `startMarketplace` builds,
 * and the document asked for with `inject`. Registering routes reads no data, so each service is
 * given a database closed beforehand (a query would fail loudly, and the tickets read caches do not
 * start their change feed on a closed one). e2e/openapi.test.ts holds this document to the one a
 * running marketplace serves; `npm run lint:openapi` lints it.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { buildHttpServer, openDatabase, registerService } from '@ticketing/common';
import { TestPaymentProvider } from '@ticketing/payments';
import { MARKETPLACE_TITLE, marketplaceServices } from './marketplace.ts';

export async function marketplaceOpenApiDocument(): Promise<Record<string, unknown>> {
  const logger = pino({ level: 'silent' });
  const app = await buildHttpServer({
    logger,
    jwtKey: randomBytes(32).toString('hex'),
    secureCookies: false,
    title: MARKETPLACE_TITLE,
    service: 'marketplace',
    readiness: {},
  });
  try {
    const modules = marketplaceServices({
      logger,
      orderExpirationSeconds: 900,
      // The provider changes no schema; the test one needs no configuration.
      payments: { provider: new TestPaymentProvider(), currency: 'usd' },
    });
    for (const module of modules) {
      const database = openDatabase(`postgres://127.0.0.1:1/unused_${module.name}`, { logger });
      await database.close();
      await registerService(app, module, { database, logger });
    }
    const response = await app.inject({ url: '/api/docs/json' });
    if (response.statusCode !== 200) {
      throw new Error(`GET /api/docs/json answered ${response.statusCode}: ${response.body}`);
    }
    return response.json<Record<string, unknown>>();
  } finally {
    await app.close();
  }
}
