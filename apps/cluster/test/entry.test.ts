/**
 * The cluster's HTTP entry, both kinds against the same expectations: routes by path prefix,
 * round robin over healthy replicas only, a replica that refuses connections skipped, the API's
 * error shape for unknown paths and unavailable services, bodies and cookies passed through; the
 * API documentation and the web client from the supervisor's site. The replicas are stand-in
 * HTTP servers that say who they are. The nginx half needs an nginx binary (CI installs Debian's
 * nginx-light) and skips, saying so, without one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendRawHttp, sendSlowBody, silentLogger, waitFor } from '@ticketing/common/testing';
import { freePort, Replica, SERVICES, type ServiceName } from '../src/cluster.ts';
import { startEntry, type Entry, type EntryKind } from '../src/entry.ts';
import { findNginx, nginxConfig, nginxPrefix } from '../src/nginx-entry.ts';
import { mergeOpenApi, startSite, type Site } from '../src/site.ts';

const nginx = findNginx();
if (!nginx)
  console.warn(
    'nginx entry tests skipped: no nginx binary (apt-get install nginx-light, or set NGINX_BINARY)',
  );

/**
 * A stand-in replica: answers every request with its name, the method, path, body, cookie and
 * X-Forwarded-For; and
 * `/api/docs/json` with a document of one route of its service's, whose response is a component
 * schema named `def-0`, as each service's own document numbers them.
 */
async function standIn(name: string): Promise<{ port: number; close(): Promise<void> }> {
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
  server.keepAliveTimeout = 120_000; // like the services (72 s), longer than the entry keeps idle ones
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
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

describe.each<EntryKind>(['node', 'nginx'])('the %s entry', (kind) => {
  const enabled = kind === 'node' || Boolean(nginx);
  const servers: { close(): Promise<void> }[] = [];
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
        servers.push(server);
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
    await Promise.all(servers.map((server) => server.close()));
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
    'answers a URL it cannot decode with 400 (the Node gateway in the API error shape)',
    async () => {
      const { status, body } = await raw(
        'GET /api/tickets/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(status).toBe(400);
      // nginx answers with its own page, as for a request line it cannot parse (see nginxConfig).
      if (kind === 'node') {
        expect(JSON.parse(body)).toEqual({ errors: [{ message: 'The URL is malformed' }] });
      }
    },
  );

  it.runIf(enabled)('answers headers over its limit with 431 in the API error shape', async () => {
    const huge = `GET /api/tickets HTTP/1.1\r\nHost: x\r\nCookie: session=${'a'.repeat(20_000)}\r\n\r\n`;
    const { status, body } = await raw(huge);
    expect(status).toBe(431);
    expect(JSON.parse(body)).toEqual({ errors: [{ message: 'Request headers are too large' }] });
  });

  it.runIf(enabled)('answers a request line it cannot parse with 400', async () => {
    const { status, body } = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(status).toBe(400);
    // nginx keeps its own page for these (see nginxConfig); the Node gateway uses the API's shape.
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
    const port = dead.port;
    // A port nobody listens on, as after a kill -9 and before the next health poll.
    Object.defineProperty(dead, 'port', { value: await freePort(), configurable: true });
    try {
      entry.update();
      await entry.settled();
      const answers: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const { status, body } = await get('/api/users');
        answers.push(status === 200 ? body.name : status);
      }
      if (kind === 'nginx') {
        expect(answers).toEqual(['auth-2', 'auth-2', 'auth-2', 'auth-2']); // retried on the other
      } else {
        // The Node gateway answers the request that hit it 502, and sends no more there.
        expect(answers.filter((a) => a === 502).length).toBeLessThanOrEqual(1);
        expect(answers.filter((a) => a === 'auth-2').length).toBeGreaterThanOrEqual(3);
        expect(dead.healthy).toBe(false);
      }
    } finally {
      Object.defineProperty(dead, 'port', { value: port, configurable: true });
    }
  });
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

describe.runIf(nginx)('the nginx process', () => {
  it('is started again when it dies, and leaves no process behind when closed', async () => {
    const server = await standIn('auth-1');
    const replica = new Replica('auth', 1, server.port, {}, 'ignore');
    replica.healthy = true;
    const replicas = Object.fromEntries(SERVICES.map((s) => [s, s === 'auth' ? [replica] : []])) as Record<
      ServiceName,
      Replica[]
    >;
    const entry = await startEntry({ kind: 'nginx', port: 0, replicas, logger: silentLogger });
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
      const [master, ...workers] = entry.pids();
      expect(workers.length).toBe(1);
      process.kill(master!, 'SIGKILL'); // its worker would go on serving the old configuration
      await waitFor(() => entry.pids()[0] !== master && entry.pids().length === 2, 10_000, 50);
      await entry.settled();
      expect(workers.some(alive)).toBe(false);
      const response = await fetch(`http://127.0.0.1:${entry.port}/api/users`);
      expect(((await response.json()) as { name: string }).name).toBe('auth-1');
    } finally {
      const pids = entry.pids();
      await entry.close();
      await server.close();
      expect(pids.filter(alive)).toEqual([]);
    }
  });
});

describe.runIf(nginx)('the nginx configuration', () => {
  // prlimit (util-linux) lowers the master's limit on open files, so that it cannot open the file
  // it is told to reload: a failure outside the configuration, which nginx survives on the old one.
  const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((file) => existsSync(file));

  it.runIf(prlimit)(
    'is reloaded again until nginx takes it, and written again (nginx started again) once it can be',
    async () => {
      const servers = [await standIn('tickets-1'), await standIn('tickets-2')];
      const [first, second] = servers.map((server, i) => {
        const replica = new Replica('tickets', i + 1, server.port, {}, 'ignore');
        replica.healthy = i === 0;
        return replica;
      }) as [Replica, Replica];
      const replicas = Object.fromEntries(
        SERVICES.map((s) => [s, s === 'tickets' ? [first, second] : []]),
      ) as Record<ServiceName, Replica[]>;
      const entry = await startEntry({ kind: 'nginx', port: 0, replicas, logger: silentLogger });
      // The supervisor's poller, which calls update() whatever happened.
      const poller = setInterval(() => entry.update(), 100);
      const names = async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const response = await fetch(`http://127.0.0.1:${entry.port}/api/tickets`);
          seen.add(((await response.json()) as { name: string }).name);
        }
        return seen;
      };
      const master = String(entry.pids()[0]);
      const limit = (soft: string) => execFileSync(prlimit!, ['--pid', master, `--nofile=${soft}:`]);
      const soft = execFileSync(prlimit!, ['--pid', master, '--nofile', '--output=SOFT', '--noheadings'])
        .toString()
        .trim();
      try {
        expect(await names()).toEqual(new Set(['tickets-1']));

        // Any file it opens now would be descriptor 3 or above: none can be opened.
        limit('3');
        second.healthy = true;
        entry.update();
        await expect(entry.settled(1_500)).rejects.toThrow(/Too many open files/);
        expect(await names()).toEqual(new Set(['tickets-1'])); // the old configuration, still served
        limit(soft);
        await entry.settled();
        expect(await names()).toEqual(new Set(['tickets-1', 'tickets-2']));

        // A directory where the configuration is written first: the write fails, and is retried.
        const blocker = path.join(nginxPrefix(Number(master))!, 'nginx.conf.next');
        mkdirSync(blocker);
        second.healthy = false;
        entry.update();
        expect(await names()).toEqual(new Set(['tickets-1', 'tickets-2'])); // nothing written
        rmdirSync(blocker);
        await waitFor(async () => (await names()).size === 1, 10_000, 100);
        await entry.settled();
        expect(await names()).toEqual(new Set(['tickets-1']));

        // nginx dies while no configuration can be written: it is started once one can be.
        mkdirSync(blocker);
        process.kill(Number(master), 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 2_500)); // a restart or two that fail
        rmdirSync(blocker);
        await waitFor(() => entry.pids().length === 2 && entry.pids()[0] !== Number(master), 10_000, 50);
        await entry.settled();
        expect(await names()).toEqual(new Set(['tickets-1']));
      } finally {
        clearInterval(poller);
        await entry.close();
        await Promise.all(servers.map((server) => server.close()));
      }
    },
  );
});

describe('nginxConfig', () => {
  it('lists every replica, marks the unhealthy ones down, and gives a service without replicas a down server', () => {
    const config = nginxConfig(
      { dir: '/tmp/x', host: '127.0.0.1', port: 8080, controlPort: 8081, generation: 7 },
      {
        tickets: [
          { port: 4001, healthy: true },
          { port: 4002, healthy: false },
        ],
      },
    );
    expect(config).toContain('server 127.0.0.1:4001 max_fails=1 fail_timeout=1s;');
    expect(config).toContain('server 127.0.0.1:4002 max_fails=1 fail_timeout=1s down;');
    expect(config).toMatch(/upstream auth \{\n {4}server 127\.0\.0\.1:9 down;/);
    expect(config).toContain('location ~ ^/api/tickets(/|$)');
    expect(config).toContain("return 200 '7';");
    expect(config).toContain('listen 127.0.0.1:8080;');
  });
});

describe('nginxConfig with a site', () => {
  it('sends the API documentation and every path outside /api to the site, and 404s the rest of /api', () => {
    const layout = { dir: '/tmp/x', host: '127.0.0.1', port: 8080, controlPort: 8081, generation: 1 };
    const config = nginxConfig({ ...layout, sitePort: 8090 }, {});
    expect(config).toMatch(/upstream site \{\n {4}server 127\.0\.0\.1:8090;/);
    for (const location of ['location = /api/docs {', 'location ^~ /api/docs/ {', 'location / {'])
      expect(config).toContain(`${location}\n      set $service web;\n      proxy_pass http://site;`);
    // A location's block, up to its closing brace.
    const block = (text: string, location: string) =>
      text.includes(`${location}\n`) ? text.slice(text.indexOf(`${location}\n`)).split('\n    }')[0]! : '';
    const notFound = `return 404 '{"errors":[{"message":"Not found"}]}';`;
    for (const location of ['location = /api {', 'location /api/ {']) {
      expect(block(config, location)).toContain(notFound);
      // nginx's own answer, with the headers the services give theirs.
      expect(block(config, location)).toContain('add_header X-Content-Type-Options "nosniff" always;');
    }
    // Without a site, everything no service owns is a 404, as before.
    const alone = nginxConfig(layout, {});
    expect(alone).not.toContain('site');
    expect(block(alone, 'location / {')).toContain(notFound);
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
