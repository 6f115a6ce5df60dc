/**
 * The marketplace as deployed: the web client's answers carry the same security headers as the
 * API's (its CSP letting it load Stripe.js only when payments go through Stripe), and in
 * production neither the metrics nor the API documentation are on the public port, the metrics
 * being on a port of their own when METRICS_PORT is set.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildHttpServer,
  hardeningFromConfig,
  HardeningSettings,
  loadConfig,
  NodeEnv,
  type HttpApp,
  type HttpHardening,
} from '@ticketing/common';
import { silentLogger, testServerUrl } from '@ticketing/common/testing';
import { startMarketplace, type Marketplace } from '@ticketing/marketplace';
import { serveWebClient } from '@ticketing/marketplace/web';
import { StripePaymentProvider, TestPaymentProvider } from '@ticketing/payments';
import { Type } from 'typebox';
import { JWT_KEY } from './support.ts';

/** A header's directives, by name. */
const directives = (csp: string | null): Record<string, string[]> =>
  Object.fromEntries(
    (csp ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name!, sources]),
  );

/** A built web client in miniature: index.html and one hashed asset. */
async function webBuild(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-web-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  mkdirSync(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("client");');
  return dir;
}

describe('the web client’s answers', () => {
  let dist: string;
  const apps: HttpApp[] = [];
  beforeAll(async () => {
    dist = await webBuild();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await rm(dist, { recursive: true, force: true });
  });

  const client = async (hardening: Partial<HttpHardening> = {}) => {
    const app = await buildHttpServer({
      logger: silentLogger,
      jwtKey: JWT_KEY,
      secureCookies: false,
      title: 'test',
      readiness: {},
      hardening,
    });
    await serveWebClient(app, dist);
    apps.push(app);
    return app;
  };

  it('carry a CSP of the app’s own scripts and styles, no framing, nosniff and a referrer policy', async () => {
    const app = await client();
    for (const url of [
      '/',
      '/orders/7a7a7a7a-3333-4c4c-8d8d-000000000003',
      '/assets/index-abc123.js',
      '/favicon.svg',
    ]) {
      const { headers } = await app.inject({ url });
      const csp = directives(headers['content-security-policy'] ?? null);
      expect(csp['default-src'], url).toEqual(["'self'"]);
      expect(csp['script-src'], url).toEqual(["'self'"]);
      expect(csp['style-src'], url).toEqual(["'self'"]);
      expect(csp['img-src'], url).toEqual(["'self'", 'data:']); // the QR codes of entry codes
      expect(csp['frame-ancestors'], url).toEqual(["'none'"]);
      expect(headers['x-frame-options'], url).toBe('DENY');
      expect(headers['x-content-type-options'], url).toBe('nosniff');
      expect(headers['referrer-policy'], url).toBe('strict-origin-when-cross-origin');
      expect(headers['strict-transport-security'], url).toBeUndefined();
    }
  });

  it('carry HSTS in production', async () => {
    const app = await client({ production: true });
    const { headers } = await app.inject({ url: '/' });
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });
});

const MarketplaceConfig = Type.Object({ NODE_ENV: NodeEnv, ...HardeningSettings });

describe('a marketplace in production', () => {
  let marketplace: Marketplace;
  beforeAll(async () => {
    const config = loadConfig(MarketplaceConfig, { NODE_ENV: 'production', METRICS_PORT: '0' });
    marketplace = await startMarketplace({
      logger: silentLogger,
      jwtKey: JWT_KEY,
      secureCookies: true,
      port: 0,
      host: '127.0.0.1',
      databaseUrl: testServerUrl(),
      dataDir: '.data/e2e',
      databasePrefix: `e2e_${randomUUID().slice(0, 8)}`,
      natsStream: 'UNUSED',
      orderExpirationSeconds: 900,
      hardening: hardeningFromConfig(config),
      metricsPort: config.METRICS_PORT,
      // Payments through Stripe (never reached here): the web client's CSP lets Stripe.js in.
      payments: { provider: new StripePaymentProvider({ secretKey: 'sk_test_unused' }), currency: 'usd' },
    });
  }, 60_000);
  afterAll(async () => {
    await marketplace?.stop();
  });

  it('serves neither the metrics nor the API documentation on its public port', async () => {
    for (const url of ['/metrics', '/api/docs', '/api/docs/json']) {
      const response = await fetch(marketplace.url + url);
      expect(response.status, url).toBe(404);
      expect(await response.json(), url).toEqual({ errors: [{ message: 'Not found' }] });
    }
    expect((await fetch(`${marketplace.url}/api/tickets`)).status).toBe(200);
  });

  it('serves the metrics on METRICS_PORT, for the operators’ scraper', async () => {
    expect(marketplace.metricsUrl).toBeDefined();
    const scrape = await fetch(marketplace.metricsUrl!);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('http_request_duration_seconds');
  });

  it('answers with HSTS, and a CSP that lets the web client load Stripe.js', async () => {
    const response = await fetch(`${marketplace.url}/api/payments/config`);
    expect(await response.json()).toMatchObject({ provider: 'stripe' });
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const csp = directives(response.headers.get('content-security-policy'));
    expect(csp['script-src']).toContain('https://js.stripe.com');
    expect(csp['frame-src']).toContain('https://js.stripe.com');
  });

  it('has no Stripe in its CSP with the test provider', async () => {
    const config = loadConfig(MarketplaceConfig, { NODE_ENV: 'development' });
    const other = await startMarketplace({
      logger: silentLogger,
      jwtKey: JWT_KEY,
      secureCookies: false,
      port: 0,
      host: '127.0.0.1',
      databaseUrl: testServerUrl(),
      dataDir: '.data/e2e',
      databasePrefix: `e2e_${randomUUID().slice(0, 8)}`,
      natsStream: 'UNUSED',
      orderExpirationSeconds: 900,
      hardening: hardeningFromConfig(config),
      payments: { provider: new TestPaymentProvider(), currency: 'usd' },
    });
    try {
      const response = await fetch(`${other.url}/api/payments/config`);
      expect(response.headers.get('content-security-policy')).not.toContain('stripe');
      // Development keeps the metrics and the documentation where they were.
      expect((await fetch(`${other.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${other.url}/api/docs/json`)).status).toBe(200);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
