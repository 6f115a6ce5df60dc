/**
 * What every server of the system does to be safe to expose: requests that take too long to
 * arrive are answered 408, security headers on every answer, `no-store` on a user's own answers,
 * cross-site writes and bodies other than JSON refused, and in production neither the metrics nor
 * the API documentation on the public port.
 */
import net from 'node:net';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer, type HttpApp } from '../src/http/server.ts';
import {
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  hardeningFromConfig,
  type HttpHardening,
} from '../src/http/hardening.ts';
import { PUBLIC, SESSION_OPTIONAL, SESSION_REQUIRED } from '../src/http/openapi.ts';
import { createSessionIssuer, requireUser } from '../src/http/session.ts';
import { loadConfig } from '../src/config/config.ts';
import { StandaloneConfig } from '../src/service.ts';
import { startMetricsServer } from '../src/http/metrics-server.ts';
import { sendRawHttp, sendSlowBody, silentLogger } from '../src/testing/index.ts';

const JWT_KEY = 'hardening-test-key-0123456789-0123456789';

/** A server with a route of each kind: public, reading a session, needing one; with a body. */
async function server(hardening: Partial<HttpHardening> = {}): Promise<HttpApp> {
  const app = await buildHttpServer({
    logger: silentLogger,
    jwtKey: JWT_KEY,
    secureCookies: false,
    title: 'test',
    readiness: {},
    hardening,
  });
  app.get('/api/things', { schema: { security: PUBLIC } }, async () => ({ things: [] }));
  app.get('/api/me', { schema: { security: SESSION_OPTIONAL } }, async (request) => ({
    me: request.currentUser?.id ?? null,
  }));
  app.get('/api/mine', { schema: { security: SESSION_REQUIRED } }, async (request) => ({
    mine: requireUser(request).id,
  }));
  app.post(
    '/api/things',
    { schema: { security: PUBLIC, body: Type.Object({ name: Type.String() }) } },
    async (request, reply) => reply.status(201).send({ name: request.body.name }),
  );
  app.delete('/api/things/:id', { schema: { security: PUBLIC } }, async (_request, reply) =>
    reply.status(204).send(),
  );
  return app;
}

const listen = async (app: HttpApp) => {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as net.AddressInfo).port;
};

describe('a request that takes too long to arrive', () => {
  let app: HttpApp;
  let port: number;
  beforeAll(async () => {
    app = await server({ requestTimeoutMs: 1_000, keepAliveTimeoutMs: 1_000 });
    port = await listen(app);
  });
  afterAll(() => app.close());

  it('is answered 408 in the API shape, and closed, within its bound: a body sent a byte at a time', async () => {
    const answer = await sendSlowBody(port, { intervalMs: 200, giveUpMs: 10_000 });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({ errors: [{ message: 'Request took too long to arrive' }] });
    expect(answer.head).toMatch(/^x-content-type-options: nosniff$/im);
    // The bound (1 s), and at most the interval at which Node looks (100 ms here), and some slack.
    expect(answer.ms).toBeGreaterThanOrEqual(900);
    expect(answer.ms).toBeLessThan(2_500);
  });

  it('is answered 408 when its headers never end, or it never starts', async () => {
    const started = Date.now();
    const { status } = await new Promise<{ status: number }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /api/things HTTP/1.1\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve({ status: Number(text.split(' ')[1]) }));
    });
    expect(status).toBe(408);
    expect(Date.now() - started).toBeLessThan(2_500);
    const silent = await sendRawHttp(port, '');
    expect(silent.status).toBe(408);
  });

  it('closes a keep-alive connection left idle past its bound', async () => {
    const closedAfter = await new Promise<number>((resolve) => {
      let answered = 0;
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write('GET /api/things HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      socket.on('data', () => (answered ||= Date.now()));
      socket.on('close', () => resolve(Date.now() - answered));
    });
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(3_000);
  });

  it('has bounds by default, and settings for them', async () => {
    const defaults = await server();
    expect(defaults.server.requestTimeout).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(defaults.server.keepAliveTimeout).toBe(DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
    expect(defaults.server.headersTimeout).toBeLessThanOrEqual(DEFAULT_REQUEST_TIMEOUT_MS);
    await defaults.close();
    const config = loadConfig(StandaloneConfig, {
      DATABASE_URL: 'postgres://x/y',
      NATS_URL: 'nats://x',
      REQUEST_TIMEOUT_MS: '10000',
      KEEP_ALIVE_TIMEOUT_MS: '5000',
    });
    expect(hardeningFromConfig(config)).toMatchObject({
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
    });
    expect(() =>
      loadConfig(StandaloneConfig, { DATABASE_URL: 'x', NATS_URL: 'y', REQUEST_TIMEOUT_MS: '0' }),
    ).toThrow(/REQUEST_TIMEOUT_MS/);
  });
});

/** A header's directives, by name: `{ 'frame-ancestors': ["'none'"], ... }`. */
function directives(csp: string | undefined): Record<string, string[]> {
  return Object.fromEntries(
    (csp ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('the security headers of every answer', () => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await server();
  });
  afterAll(() => app.close());

  it('are on the API’s answers, its errors included: CSP, no framing, nosniff, a referrer policy', async () => {
    const answers = [
      await app.inject({ url: '/api/things' }),
      await app.inject({ url: '/api/nothing' }), // 404
      await app.inject({ url: '/api/mine' }), // 401
      await app.inject({ method: 'POST', url: '/api/things', payload: { name: 1 } }), // 400
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 404, 401, 400]);
    for (const { headers } of answers) {
      const csp = directives(headers['content-security-policy']);
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
      expect(csp['script-src']).toEqual(["'self'"]);
      expect(csp['style-src']).toEqual(["'self'"]);
      expect(csp['object-src']).toEqual(["'none'"]);
      expect(csp['img-src']).toEqual(["'self'", 'data:']); // the QR codes of entry codes
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      // Not in development: it would pin localhost to HTTPS.
      expect(headers['strict-transport-security']).toBeUndefined();
      expect(headers['x-powered-by']).toBeUndefined();
    }
  });

  it('include HSTS in production', async () => {
    const production = await server({ production: true });
    const { headers } = await production.inject({ url: '/api/things' });
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    await production.close();
  });

  it('let the web client load Stripe.js only where the payments provider is Stripe', async () => {
    const csp = async (stripe: boolean) => {
      const app = await server({ stripe });
      const { headers } = await app.inject({ url: '/api/things' });
      await app.close();
      return directives(headers['content-security-policy']);
    };
    const without = await csp(false);
    expect(JSON.stringify(without)).not.toContain('stripe');
    expect(without['frame-src']).toEqual(["'none'"]);
    const withStripe = await csp(true);
    expect(withStripe['script-src']).toEqual(["'self'", 'https://js.stripe.com', 'https://*.js.stripe.com']);
    expect(withStripe['frame-src']).toContain('https://js.stripe.com');
    expect(withStripe['connect-src']).toEqual(["'self'", 'https://api.stripe.com']);
    expect(withStripe['frame-ancestors']).toEqual(["'none'"]);
  });

  it('give the API documentation a policy of its own, never framed', async () => {
    for (const url of ['/api/docs', '/api/docs/static/index.html', '/api/docs/json']) {
      const { statusCode, headers } = await app.inject({ url });
      expect(statusCode, url).toBeLessThan(400);
      const csp = directives(headers['content-security-policy']);
      expect(csp['script-src'], url).toEqual(["'self'"]);
      expect(csp['frame-ancestors'], url).toEqual(["'none'"]);
      expect(headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('are on an answer to a request that could not be parsed', async () => {
    const listening = await server();
    try {
      const { status, head } = await sendRawHttp(await listen(listening), 'NOT HTTP AT ALL\r\n\r\n');
      expect(status).toBe(400);
      expect(head).toMatch(/^content-security-policy: default-src 'none'; frame-ancestors 'none'$/im);
      expect(head).toMatch(/^x-content-type-options: nosniff$/im);
    } finally {
      await listening.close();
    }
  });
});

describe('Cache-Control: no-store', () => {
  let app: HttpApp;
  let cookie: string;
  beforeAll(async () => {
    app = await server();
    const session = createSessionIssuer({ jwtKey: JWT_KEY, secureCookies: false });
    cookie = `session=${await session.sign({ id: '00000000-0000-4000-8000-000000000001', email: 'a@b.test' })}`;
  });
  afterAll(() => app.close());

  const cacheControl = async (url: string, headers: Record<string, string> = {}) =>
    (await app.inject({ url, headers })).headers['cache-control'];

  it('is on every API answer to a request carrying a session', async () => {
    for (const url of ['/api/things', '/api/me', '/api/mine', '/api/nothing'])
      expect(await cacheControl(url, { cookie }), url).toBe('no-store');
  });

  it('is on every answer of a route that reads the session, without one too (its 401)', async () => {
    expect(await cacheControl('/api/mine')).toBe('no-store');
    expect(await cacheControl('/api/me')).toBe('no-store');
  });

  it('is not on public answers to a request without a session', async () => {
    expect(await cacheControl('/api/things')).toBeUndefined();
  });
});

describe('a request that would change something', () => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await server();
  });
  afterAll(() => app.close());

  const post = (headers: Record<string, string>, payload = '{"name":"x"}') =>
    app.inject({
      method: 'POST',
      url: '/api/things',
      headers: { host: 'shop.test:3000', 'content-type': 'application/json', ...headers },
      payload,
    });

  it('is refused 403 in the API shape when a page of another site sent it', async () => {
    const refusals = [
      await post({ origin: 'https://elsewhere.test' }),
      await post({ origin: 'http://shop.test:3001' }), // another port: another origin
      await post({ origin: 'null' }), // a sandboxed frame, a file
      await post({ 'sec-fetch-site': 'cross-site' }),
      await post({ origin: 'http://shop.test:3000', 'sec-fetch-site': 'cross-site' }),
      await app.inject({
        method: 'DELETE',
        url: '/api/things/1',
        headers: { host: 'shop.test:3000', origin: 'https://elsewhere.test' },
      }),
    ];
    expect(refusals.map((answer) => answer.statusCode)).toEqual([403, 403, 403, 403, 403, 403]);
    for (const answer of refusals) {
      expect(answer.json()).toEqual({
        errors: [{ message: 'Requests from another site may not change anything here' }],
      });
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('goes on from the same origin, and without Origin or Sec-Fetch-Site (not from a browser)', async () => {
    expect(
      (await post({ origin: 'http://shop.test:3000', 'sec-fetch-site': 'same-origin' })).statusCode,
    ).toBe(201);
    expect((await post({ origin: 'http://SHOP.test:3000' })).statusCode).toBe(201);
    // The Host names no scheme (a proxy may end TLS): the same host and port is the same origin.
    expect((await post({ origin: 'https://shop.test:3000' })).statusCode).toBe(201);
    expect((await post({})).statusCode).toBe(201);
    expect((await post({ 'sec-fetch-site': 'none' })).statusCode).toBe(201); // typed in the address bar
    const defaultPort = await app.inject({
      method: 'POST',
      url: '/api/things',
      headers: { host: 'shop.test', origin: 'https://shop.test', 'content-type': 'application/json' },
      payload: '{"name":"x"}',
    });
    expect(defaultPort.statusCode).toBe(201);
  });

  it('is not looked at when it reads: a GET from another site is answered', async () => {
    const { statusCode } = await app.inject({
      url: '/api/things',
      headers: { origin: 'https://elsewhere.test', 'sec-fetch-site': 'cross-site' },
    });
    expect(statusCode).toBe(200);
  });

  it('has its body read only as JSON: any other content type is answered 415', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await post({ 'content-type': type }, 'name=x');
      expect(answer.statusCode, type).toBe(415);
      expect(answer.json(), type).toEqual({ errors: [{ message: expect.stringMatching(/media type/i) }] });
    }
    expect((await post({ 'content-type': 'application/json; charset=utf-8' })).statusCode).toBe(201);
    // No body at all needs no content type.
    expect((await app.inject({ method: 'DELETE', url: '/api/things/1' })).statusCode).toBe(204);
  });
});

describe('what production exposes', () => {
  const production = loadConfig(StandaloneConfig, {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://x/y',
    NATS_URL: 'nats://x',
  });

  it('serves neither the metrics nor the API documentation on the public port', async () => {
    const hardening = hardeningFromConfig(production);
    expect(hardening).toMatchObject({ production: true, apiDocs: false, metrics: false });
    const app = await server(hardening);
    for (const url of ['/metrics', '/api/docs', '/api/docs/json', '/api/docs/static/index.html'])
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it('serves the API documentation when API_DOCS is set', async () => {
    const hardening = hardeningFromConfig({ ...production, API_DOCS: true });
    const app = await server(hardening);
    expect((await app.inject({ url: '/api/docs/json' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);
    await app.close();
  });

  it('serves the metrics on METRICS_PORT only, when it is set', async () => {
    const config = { ...production, METRICS_PORT: 0 };
    expect(hardeningFromConfig(config).metrics).toBe(false);
    expect(hardeningFromConfig({ ...config, NODE_ENV: 'development' }).metrics).toBe(false);
    const metrics = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
      production: true,
    });
    try {
      const scrape = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('nodejs_version_info');
      expect((await fetch(`http://127.0.0.1:${metrics.port}/api/things`)).status).toBe(404);
    } finally {
      await metrics.close();
    }
  });

  it('keeps both where they were in development', async () => {
    const development = hardeningFromConfig({ ...production, NODE_ENV: 'development' });
    expect(development).toMatchObject({ production: false, apiDocs: true, metrics: true });
    const app = await server(development);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/docs/json' })).statusCode).toBe(200);
    await app.close();
  });
});
