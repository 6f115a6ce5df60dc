/**
 * The cluster's HTTP entry, both kinds against the same expectations: routes by path prefix,
 * round robin over healthy replicas only, a replica that refuses connections skipped, the API's
 * error shape for unknown paths and unavailable services, bodies and cookies passed through; the
 * API documentation and the web client from the supervisor's site. The replicas are stand-in
 * HTTP servers that say who they are (and answer their `/readyz`, which HAProxy checks). The
 * haproxy half needs an HAProxy binary (CI installs Debian's haproxy) and skips, saying so,
 * without one.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClientErrorHandler } from '@ticketing/common';
import { sendRawHttp, sendSlowBody, silentLogger, waitFor } from '@ticketing/common/testing';
import { Replica, SERVICES, type ServiceName } from '../src/cluster.ts';
import { startEntry, type Entry, type EntryKind } from '../src/entry.ts';
import { findHaproxy, haproxyCommand, haproxyConfig, serversUp } from '../src/haproxy.ts';
import { mergeOpenApi, startSite, type Site } from '../src/site.ts';

const haproxy = findHaproxy();
if (!haproxy)
  console.warn(
    'haproxy entry tests skipped: no haproxy binary (apt-get install haproxy, or set HAPROXY_BINARY)',
  );

/** The configuration file a running HAProxy was started with (`-f`), from its command line. */
const configOf = (pid: number) => /-f\0([^\0]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))![1]!;
/** A running HAProxy entry's statistics CSV, from its runtime API (beside its configuration). */
const rawStats = (entry: Entry) =>
  haproxyCommand(path.join(path.dirname(configOf(entry.pids()[0]!)), 'admin.sock'), 'show stat');

interface StandIn {
  port: number;
  /** Stops listening and drops its connections: connections to its port are refused. */
  close(): Promise<void>;
  /** Listens again, on the same port. */
  listen(): Promise<void>;
}

/**
 * A stand-in replica: answers every request with its name, the method, path, body, cookie and
 * X-Forwarded-For; and
 * `/api/docs/json` with a document of one route of its service's, whose response is a component
 * schema named `def-0`, as each service's own document numbers them. Headers over Node's limit
 * get the services' 431 in the API shape.
 */
async function standIn(name: string): Promise<StandIn> {
  const service = name.split('-')[0]!;
  const server = http.createServer((request, response) => {
    if (request.url === '/api/docs/json') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(serviceDocument(service)));
      return;
    }
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          name,
          method: request.method,
          url: request.url,
          body,
          cookie: request.headers.cookie,
          host: request.headers.host,
          forwardedFor: request.headers['x-forwarded-for'],
        }),
      );
    });
  });
  server.on('clientError', apiClientErrorHandler);
  server.keepAliveTimeout = 120_000; // like the services (72 s), longer than the entry keeps idle ones
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen();
  port = (server.address() as net.AddressInfo).port;
  return {
    port,
    listen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What a service's replica documents at /api/docs/json (here, one route per service). */
const serviceDocument = (service: string) => ({
  openapi: '3.0.3',
  info: { title: `ticketing ${service}`, version: '0.1.0' },
  components: {
    securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'session' } },
    schemas: { 'def-0': { type: 'object', title: `${service} thing` } },
  },
  paths: {
    [`/api/${service}/thing`]: {
      get: {
        tags: [service],
        responses: {
          200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } } },
        },
      },
    },
  },
  tags: [{ name: service }],
});

/** A built web client in miniature: index.html and one hashed asset. */
async function webBuild(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-web-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  mkdirSync(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("client");');
  return dir;
}

describe.each<EntryKind>(['node', 'haproxy'])('the %s entry', (kind) => {
  const enabled = kind === 'node' || Boolean(haproxy);
  const servers = new Map<string, StandIn>();
  const replicas = {} as Record<ServiceName, Replica[]>;
  let entry: Entry;
  let site: Site;
  let webDist: string;
  let url: string;

  beforeAll(async () => {
    if (!enabled) return;
    for (const service of SERVICES) {
      replicas[service] = [];
      for (const index of [1, 2]) {
        const server = await standIn(`${service}-${index}`);
        servers.set(`${service}-${index}`, server);
        const replica = new Replica(service, index, server.port, {}, 'ignore');
        replica.healthy = true;
        replicas[service].push(replica);
      }
    }
    webDist = await webBuild();
    site = await startSite({ replicas, webDist, logger: silentLogger });
    entry = await startEntry({ kind, port: 0, replicas, site, logger: silentLogger });
    url = `http://127.0.0.1:${entry.port}`;
    await entry.settled();
  });
  afterAll(async () => {
    if (!enabled) return;
    await entry.close();
    await site.close();
    await Promise.all([...servers.values()].map((server) => server.close()));
    await rm(webDist, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (!enabled) return;
    for (const service of SERVICES) for (const replica of replicas[service]) replica.healthy = true;
    entry.update();
    await entry.settled();
  });

  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(url + path, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const setHealth = async (healthy: Record<string, boolean>) => {
    for (const service of SERVICES)
      for (const r of replicas[service]) if (r.name in healthy) r.healthy = healthy[r.name]!;
    entry.update();
    await entry.settled();
  };

  it.runIf(enabled)('routes each path prefix to its service, and balances over its replicas', async () => {
    const names = new Set<unknown>();
    for (let i = 0; i < 4; i++) names.add((await get('/api/tickets/abc?limit=2')).body.name);
    expect(names).toEqual(new Set(['tickets-1', 'tickets-2']));
    expect((await get('/api/users/currentuser')).body).toMatchObject({ url: '/api/users/currentuser' });
    expect(String((await get('/api/users')).body.name)).toMatch(/^auth-/);
    expect(String((await get('/api/orders/1')).body.name)).toMatch(/^orders-/);
    expect(String((await get('/api/payments')).body.name)).toMatch(/^payments-/);
  });

  it.runIf(enabled)(
    'answers unknown /api paths (and look-alike prefixes) with 404, and /healthz itself',
    async () => {
      for (const path of ['/api/ticketsX', '/api/nothing/here', '/api', '/api/docsX'])
        expect(await get(path), path).toEqual({ status: 404, body: { errors: [{ message: 'Not found' }] } });
      expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    },
  );

  it.runIf(enabled)('serves the web client at every path outside /api, as npm start does', async () => {
    for (const path of ['/', '/orders/7a7a7a7a-3333-4c4c-8d8d-000000000003', '/auth/signin?next=%2F']) {
      const response = await fetch(url + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('<div id="root">');
    }
    const asset = await fetch(`${url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log("client");');
    expect(await get('/assets/gone-1234.js')).toEqual({
      status: 404,
      body: { errors: [{ message: 'Not found' }] },
    });
  });

  it.runIf(enabled)(
    'serves the API documentation: one document made of every public service’s own',
    async () => {
      const page = await fetch(`${url}/api/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('swagger-ui');

      const { status, body } = await get('/api/docs/json');
      expect(status).toBe(200);
      expect(body.info).toEqual({ title: 'ticketing', version: '0.1.0' });
      // Expiration has no public route; each other service's route, its reference kept right.
      expect(Object.keys(body.paths as object)).toEqual([
        '/api/auth/thing',
        '/api/tickets/thing',
        '/api/orders/thing',
        '/api/payments/thing',
      ]);
      const schemas = (body.components as { schemas: Record<string, { title: string }> }).schemas;
      type Schema = { content: { 'application/json': { schema: { $ref: string } } } };
      const paths = body.paths as Record<string, { get: { responses: Record<string, Schema> } }>;
      const ref = (service: string) =>
        paths[`/api/${service}/thing`]!.get.responses['200']!.content['application/json'].schema.$ref;
      for (const service of ['auth', 'tickets', 'orders', 'payments']) {
        const name = ref(service).replace('#/components/schemas/', '');
        expect(schemas[name]!.title).toBe(`${service} thing`);
      }
      expect((body.tags as { name: string }[]).map((tag) => tag.name)).toEqual([
        'auth',
        'tickets',
        'orders',
        'payments',
      ]);
    },
  );

  const raw = (request: string) => sendRawHttp(entry.port, request);

  it.runIf(enabled)(
    'answers a URL it cannot decode with 400 in the API error shape, or leaves it to the service (HAProxy)',
    async () => {
      const { status, body } = await raw(
        'GET /api/tickets/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      if (kind === 'node') {
        expect(status).toBe(400);
        expect(JSON.parse(body)).toEqual({ errors: [{ message: 'The URL is malformed' }] });
      } else {
        // HAProxy does not decode the path: the service's router refuses it, in the same shape.
        expect(status).toBe(200);
        expect(body).toContain('"url":"/api/tickets/%E0%A4%A"');
      }
    },
  );

  it.runIf(enabled)('answers headers over its limit with 431 in the API error shape', async () => {
    // Over Node's 16 KiB: the Node gateway refuses them; HAProxy passes them on (up to its 32 KiB
    // buffers), and the service refuses them.
    const huge = `GET /api/tickets HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: session=${'a'.repeat(20_000)}\r\n\r\n`;
    const { status, body } = await raw(huge);
    expect(status).toBe(431);
    expect(JSON.parse(body)).toEqual({ errors: [{ message: 'Request headers are too large' }] });
  });

  it.runIf(enabled)('answers a request line it cannot parse with 400', async () => {
    const { status, body } = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(status).toBe(400);
    // HAProxy keeps its own page for these; the Node gateway uses the API's shape.
    if (kind === 'node')
      expect(JSON.parse(body)).toEqual({ errors: [{ message: 'Malformed HTTP request' }] });
  });

  it.runIf(enabled)('passes a POST body and the session cookie through', async () => {
    const { status, body } = await get('/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'session=abc' },
      body: JSON.stringify({ ticketId: 'x' }),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ method: 'POST', body: '{"ticketId":"x"}', cookie: 'session=abc' });
  });

  it.runIf(enabled)(
    "appends the client's address to X-Forwarded-For, which the replicas trust one hop of",
    async () => {
      expect((await get('/api/orders')).body.forwardedFor).toBe('127.0.0.1');
      // What a client wrote is kept before it; the last address is the one the entry saw.
      const { body } = await get('/api/orders', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(body.forwardedFor).toBe('203.0.113.9, 127.0.0.1');
    },
  );

  it.runIf(enabled)(
    'passes on the Host the client asked for, which the services compare with a browser’s Origin',
    async () => {
      const { body } = await get('/api/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(body.host).toBe(`127.0.0.1:${entry.port}`);
    },
  );

  it.runIf(enabled)('gives the answers it makes itself the security headers the services give', async () => {
    await setHealth({ 'payments-1': false, 'payments-2': false });
    for (const path of ['/api/nothing', '/healthz', '/api/payments']) {
      const response = await fetch(url + path);
      expect(response.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
    }
    // The site's answers keep their own: the web client's policy, the documentation's.
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')!.match(/frame-ancestors/g)).toHaveLength(1);
  });
  it.runIf(enabled)('passes a body larger than its buffers whole', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(40_000) }); // the services take up to 64 KiB
    const { status, body } = await get('/api/tickets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(status).toBe(200);
    expect(body.body).toBe(big);
  });

  it.runIf(enabled)('sends nothing to a replica marked unhealthy', async () => {
    await setHealth({ 'orders-1': false });
    for (let i = 0; i < 6; i++) expect((await get('/api/orders')).body.name).toBe('orders-2');
  });

  it.runIf(enabled)('answers 503 in the API shape when a service has no healthy replica', async () => {
    await setHealth({ 'payments-1': false, 'payments-2': false });
    expect(await get('/api/payments')).toEqual({
      status: 503,
      body: { errors: [{ message: 'The payments service is unavailable' }] },
    });
    expect((await get('/api/tickets')).status).toBe(200); // the other services are unaffected
  });

  it.runIf(enabled)('skips a replica marked healthy that refuses connections (it just died)', async () => {
    const dead = replicas.auth[0]!;
    const server = servers.get(dead.name)!;
    // Nobody listens on its port, as after a kill -9 and before the next health check.
    await server.close();
    try {
      const answers: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const { status, body } = await get('/api/users');
        answers.push(status === 200 ? body.name : status);
      }
      if (kind === 'haproxy') {
        expect(answers).toEqual(['auth-2', 'auth-2', 'auth-2', 'auth-2']); // retried on the other
      } else {
        // The Node gateway answers the request that hit it 502, and sends no more there.
        expect(answers.filter((a) => a === 502).length).toBeLessThanOrEqual(1);
        expect(answers.filter((a) => a === 'auth-2').length).toBeGreaterThanOrEqual(3);
        expect(dead.healthy).toBe(false);
      }
    } finally {
      await server.listen();
    }
  });

  it.runIf(enabled && kind === 'haproxy')(
    'takes a replica that stops out of the rotation and back in by its own checks, with no reload',
    async () => {
      const [pid] = entry.pids();
      const config = configOf(pid!);
      const written = { text: readFileSync(config, 'utf8'), mtime: statSync(config).mtimeMs };
      const names = async () => {
        const seen: unknown[] = [];
        for (let i = 0; i < 4; i++) {
          const { status, body } = await get('/api/tickets');
          seen.push(status === 200 ? body.name : status);
        }
        return seen;
      };
      const server = servers.get('tickets-1')!;
      // The supervisor is told nothing: the replica's /readyz stops answering, and its port too.
      await server.close();
      try {
        // Every request is answered meanwhile, by the other replica.
        expect(new Set(await names())).toEqual(new Set(['tickets-2']));
        await waitFor(
          async () => {
            const up = serversUp(await rawStats(entry));
            return !up.has('tickets/tickets-1') && up.has('tickets/tickets-2');
          },
          5_000,
          50,
        );
        expect(new Set(await names())).toEqual(new Set(['tickets-2']));
      } finally {
        await server.listen();
      }
      await waitFor(async () => new Set(await names()).size === 2, 5_000, 100);
      expect(serversUp(await rawStats(entry)).has('tickets/tickets-1')).toBe(true);
      // The same process, with the configuration it started with.
      expect(entry.pids()).toEqual([pid]);
      expect(readFileSync(config, 'utf8')).toBe(written.text);
      expect(statSync(config).mtimeMs).toBe(written.mtime);
    },
  );
});

describe('the Node gateway and the site, given a request that takes too long to arrive', () => {
  it('answer 408 in the API shape within their bound, and close the connection', async () => {
    const replicas = Object.fromEntries(SERVICES.map((s) => [s, []])) as unknown as Record<
      ServiceName,
      Replica[]
    >;
    // A replica that would take the body, so that the gateway reads it on.
    const server = await standIn('tickets-1');
    const replica = new Replica('tickets', 1, server.port, {}, 'ignore');
    replica.healthy = true;
    replicas.tickets.push(replica);
    const hardening = { requestTimeoutMs: 1_000 };
    const site = await startSite({ replicas, logger: silentLogger, hardening });
    const entry = await startEntry({
      kind: 'node',
      port: 0,
      replicas,
      site,
      logger: silentLogger,
      hardening,
    });
    try {
      for (const [port, path] of [
        [entry.port, '/api/tickets'],
        [site.port, '/'],
      ] as const) {
        const answer = await sendSlowBody(port, { path, intervalMs: 200, giveUpMs: 10_000 });
        expect(answer.status, `${port}${path}`).toBe(408);
        expect(JSON.parse(answer.body)).toEqual({ errors: [{ message: 'Request took too long to arrive' }] });
        expect(answer.ms).toBeLessThan(2_500);
      }
    } finally {
      await entry.close();
      await site.close();
      await server.close();
    }
  });
});

describe('the site with the API documentation off (production)', () => {
  it('answers /api/docs with the 404 of any other /api path', async () => {
    const replicas = Object.fromEntries(SERVICES.map((s) => [s, []])) as unknown as Record<
      ServiceName,
      Replica[]
    >;
    const site = await startSite({ replicas, logger: silentLogger, hardening: { apiDocs: false } });
    try {
      for (const path of ['/api/docs', '/api/docs/json']) {
        const response = await fetch(`${site.url}${path}`);
        expect(response.status, path).toBe(404);
        expect(await response.json()).toEqual({ errors: [{ message: 'Not found' }] });
      }
    } finally {
      await site.close();
    }
  });
});

describe.runIf(haproxy)('the haproxy process', () => {
  it('is started again when it dies, and leaves no process behind when closed', async () => {
    const server = await standIn('auth-1');
    const replica = new Replica('auth', 1, server.port, {}, 'ignore');
    replica.healthy = true;
    const replicas = Object.fromEntries(SERVICES.map((s) => [s, s === 'auth' ? [replica] : []])) as Record<
      ServiceName,
      Replica[]
    >;
    const entry = await startEntry({ kind: 'haproxy', port: 0, replicas, logger: silentLogger });
    // Running, as opposed to gone or a zombie waiting for whoever adopted it to reap it.
    const alive = (pid: number) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
      } catch {
        return false;
      }
    };
    try {
      const [first] = entry.pids();
      expect(entry.pids()).toHaveLength(1);
      process.kill(first!, 'SIGKILL');
      await waitFor(() => entry.pids().length === 1 && entry.pids()[0] !== first, 10_000, 50);
      await entry.settled();
      const response = await fetch(`http://127.0.0.1:${entry.port}/api/users`);
      expect(((await response.json()) as { name: string }).name).toBe('auth-1');
    } finally {
      const pids = entry.pids();
      await entry.close();
      await server.close();
      expect(pids.filter(alive)).toEqual([]);
    }
  });

  it('drains a replica the supervisor takes out, and sets it ready when the supervisor has it back', async () => {
    const stands = [await standIn('orders-1'), await standIn('orders-2')];
    const [first, second] = stands.map((server, i) => {
      const replica = new Replica('orders', i + 1, server.port, {}, 'ignore');
      replica.healthy = true;
      return replica;
    }) as [Replica, Replica];
    const replicas = Object.fromEntries(
      SERVICES.map((s) => [s, s === 'orders' ? [first, second] : []]),
    ) as Record<ServiceName, Replica[]>;
    const entry = await startEntry({ kind: 'haproxy', port: 0, replicas, logger: silentLogger });
    const names = async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`http://127.0.0.1:${entry.port}/api/orders`);
        seen.add(((await response.json()) as { name: string }).name);
      }
      return seen;
    };
    try {
      expect(await names()).toEqual(new Set(['orders-1', 'orders-2']));
      // About to be stopped: it still answers its /readyz, but gets nothing more.
      first.healthy = false;
      entry.update();
      await entry.settled();
      expect(await names()).toEqual(new Set(['orders-2']));
      first.healthy = true;
      entry.update();
      await entry.settled();
      expect(await names()).toEqual(new Set(['orders-1', 'orders-2']));
    } finally {
      await entry.close();
      await Promise.all(stands.map((server) => server.close()));
    }
  });
});

describe('haproxyConfig', () => {
  const backends = [
    {
      name: 'tickets',
      servers: [
        { name: 'tickets-1', address: '127.0.0.1:4001' },
        { name: 'tickets-2', address: '127.0.0.1:4002' },
      ],
    },
  ];

  it("lists every replica with a check of its /readyz, and routes each service's prefix to it", () => {
    const config = haproxyConfig({ bind: '127.0.0.1:8080', backends });
    expect(config).toContain('  bind 127.0.0.1:8080\n');
    expect(config).toContain('  option httpchk GET /readyz\n');
    expect(config).toContain('  server tickets-1 127.0.0.1:4001 check\n');
    expect(config).toContain('  server tickets-2 127.0.0.1:4002 check\n');
    expect(config).toContain(
      '  use_backend tickets if { path /api/tickets } || { path_beg /api/tickets/ }\n',
    );
    expect(config).toContain('  option forwardfor\n');
    expect(config).toMatch(/^ {2}option redispatch/m);
    // Its own answers in the API's shape, with the services' security headers.
    expect(config).toMatch(
      /http-error status 503 .*string '\{"errors":\[\{"message":"The tickets service is unavailable"\}\]\}' .*hdr X-Content-Type-Options "nosniff"/,
    );
    // Without a site, everything no service owns is a 404.
    expect(config).toContain('  default_backend not-found\n');
    expect(config).not.toContain('backend site');
  });

  it('sends the API documentation and every path outside /api to the site, and 404s the rest of /api', () => {
    const config = haproxyConfig({ bind: '127.0.0.1:8080', backends, site: '127.0.0.1:8090' });
    expect(config).toContain('  use_backend site if { path /api/docs } || { path_beg /api/docs/ }\n');
    expect(config).toContain('  use_backend not-found if { path /api } || { path_beg /api/ }\n');
    expect(config).toContain('  default_backend site\n');
    expect(config).toContain('  server site 127.0.0.1:8090\n');
  });
});

describe('serversUp', () => {
  it('reads the servers whose status is UP from the statistics CSV', () => {
    const row = (backend: string, server: string, status: string) =>
      [backend, server, ...Array<string>(15).fill(''), status, ''].join(',');
    const csv = [
      '# pxname,svname,...',
      row('tickets', 'tickets-1', 'UP'),
      row('tickets', 'tickets-2', 'DOWN'),
      row('orders', 'orders-1', 'UP 1/2'),
      row('orders', 'orders-2', 'DRAIN'),
      row('orders', 'BACKEND', 'UP'),
    ].join('\n');
    expect(serversUp(csv)).toEqual(new Set(['tickets/tickets-1', 'orders/orders-1']));
  });
});

describe('the site', () => {
  it('answers the document 503 while a service has no healthy replica, and serves it once it has', async () => {
    const servers = await Promise.all(
      ['auth', 'tickets', 'orders', 'payments'].map((s) => standIn(`${s}-1`)),
    );
    const replicas = Object.fromEntries(SERVICES.map((service) => [service, [] as Replica[]])) as Record<
      ServiceName,
      Replica[]
    >;
    for (const server of servers) {
      const service = ['auth', 'tickets', 'orders', 'payments'][servers.indexOf(server)] as ServiceName;
      const replica = new Replica(service, 1, server.port, {}, 'ignore');
      replica.healthy = service !== 'payments';
      replicas[service].push(replica);
    }
    const site = await startSite({ replicas, logger: silentLogger });
    try {
      const unavailable = await fetch(`${site.url}/api/docs/json`);
      expect(unavailable.status).toBe(503);
      expect(await unavailable.json()).toEqual({
        errors: [{ message: 'The payments service is unavailable' }],
      });
      replicas.payments[0]!.healthy = true;
      const available = await fetch(`${site.url}/api/docs/json`);
      expect(available.status).toBe(200);
      expect(Object.keys(((await available.json()) as { paths: object }).paths)).toHaveLength(4);
      // Without a web client to serve, a path outside /api is a 404 in the API's shape.
      const page = await fetch(`${site.url}/orders`);
      expect(page.status).toBe(404);
      expect(await page.json()).toEqual({ errors: [{ message: 'Not found' }] });
    } finally {
      await site.close();
      await Promise.all(servers.map((server) => server.close()));
    }
  });
});

describe('mergeOpenApi', () => {
  it('keeps one copy of a component every service defines alike, and renames only those that differ', () => {
    const session = { type: 'apiKey', in: 'cookie', name: 'session' };
    const document = (title: string) => ({
      openapi: '3.0.3',
      info: { title, version: '1' },
      components: { securitySchemes: { session }, schemas: { 'def-0': { title } } },
      paths: { [`/${title}`]: { get: { responses: { 200: { $ref: '#/components/schemas/def-0' } } } } },
    });
    const merged = mergeOpenApi({ title: 'all', version: '2' }, [
      { service: 'a', document: document('a') },
      { service: 'b', document: document('b') },
      { service: 'c', document: { ...document('a'), paths: {} } },
    ]);
    expect(merged.components).toEqual({
      securitySchemes: { session },
      schemas: { 'def-0': { title: 'a' }, 'def-0-b': { title: 'b' } },
    });
    expect(merged.paths).toEqual({
      '/a': { get: { responses: { 200: { $ref: '#/components/schemas/def-0' } } } },
      '/b': { get: { responses: { 200: { $ref: '#/components/schemas/def-0-b' } } } },
    });
    expect(merged.info).toEqual({ title: 'all', version: '2' });
  });
});
