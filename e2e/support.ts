/**
 * End-to-end support: the marketplace running for real (one process on the in-process bus, or
 * one process per service on JetStream), driven over HTTP by users with cookie jars. Every response
 * a test receives through `User` or `checkedFetch` is held to the OpenAPI document the system
 * serves (openapi-contract.ts): a status the operation does not list, or a body its schema does not
 * allow, fails the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
export { freePort } from '@ticketing/common';
import { freePort } from '@ticketing/common';
import type { TracerProvider } from '@opentelemetry/api';
import { databaseUrl, ensureDatabase, installTracing, JetStreamTransport } from '@ticketing/common';
import { silentLogger, testServerUrl, waitFor } from '@ticketing/common/testing';
import { startMarketplace, type Marketplace } from '@ticketing/marketplace';
import { checkExchange, forgetContracts } from './openapi-contract.ts';
export { checkedFetch } from './openapi-contract.ts';

export const JWT_KEY = 'e2e-jwt-key-0123456789-0123456789-0123456789';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where each API prefix is served: one URL for the one-process mode, one per service otherwise. */
export type Router = (path: string) => string;

export interface System {
  route: Router;
  /** Each service's database, by service name. */
  databases: Record<string, string>;
  /** Runs SQL against one service's database. */
  query<T extends pg.QueryResultRow>(service: string, sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export class User {
  private cookie = '';
  email = `user-${randomUUID()}@example.test`;
  /** Known once signed up. */
  id = '';
  constructor(private readonly route: Router) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(this.route(path) + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), cookie: this.cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await response.text();
    await checkExchange({
      method,
      url: response.url,
      status: response.status,
      contentType: response.headers.get('content-type'),
      text,
    });
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async signUp(): Promise<this> {
    const { status, body } = await this.request<{ id: string }>('POST', '/api/users/signup', {
      email: this.email,
      password: 'correct horse',
    });
    if (status !== 201) throw new Error(`signup failed: ${status}`);
    this.id = body.id;
    return this;
  }
}

async function createDatabases(prefix: string, services: string[]): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const service of services) {
    urls[service] = databaseUrl(testServerUrl(), `${prefix}_${service}`);
    await ensureDatabase(urls[service]);
  }
  return urls;
}

function querier(urls: Record<string, string>) {
  const pools = new Map<string, pg.Pool>();
  return {
    query: async <T extends pg.QueryResultRow>(service: string, sql: string, params: unknown[] = []) => {
      let pool = pools.get(service);
      if (!pool) pools.set(service, (pool = new pg.Pool({ connectionString: urls[service], max: 2 })));
      return (await pool.query<T>(sql, params)).rows;
    },
    close: async () => {
      for (const pool of pools.values()) await pool.end();
    },
  };
}

async function dropDatabases(urls: Record<string, string>): Promise<void> {
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  for (const url of Object.values(urls)) {
    await admin.query(`drop database if exists "${new URL(url).pathname.slice(1)}" with (force)`);
  }
  await admin.end();
}

const SERVICES = ['auth', 'tickets', 'orders', 'expiration', 'payments'];

/**
 * The rate limits of the end-to-end tests, raised: they sign up dozens of users and send thousands
 * of requests, all from 127.0.0.1 (the limits have tests of their own, in the services). As
 * settings for a service's process, and as the options of the one-process marketplace.
 */
export const E2E_LIMIT_SETTINGS = {
  RATE_LIMIT_MAX: '100000',
  SIGNUP_LIMIT_MAX: '10000',
  SIGNIN_ADDRESS_LIMIT_MAX: '10000',
  VERIFY_LIMIT_MAX: '10000',
};
const E2E_LIMITS = {
  ceiling: { max: 100_000, windowSeconds: 60 },
  auth: {
    signUpPerAddress: { max: 10_000, windowSeconds: 3_600 },
    signInPerAddress: { max: 10_000, windowSeconds: 600 },
  },
  tickets: { verifyPerAddress: { max: 10_000, windowSeconds: 60 } },
};

/**
 * The one-process marketplace on the test Postgres server and the in-process bus; `web` also
 * serves the web client at `/` (built first when missing or stale).
 */
export async function startOneProcess(
  options: { orderExpirationSeconds?: number; web?: boolean; tracerProvider?: TracerProvider } = {},
): Promise<System & { marketplace: Marketplace }> {
  const prefix = `e2e_${randomUUID().slice(0, 8)}`;
  // Tracing on, with the given provider, for as long as this system runs.
  const uninstallTracing = options.tracerProvider ? installTracing(options.tracerProvider) : undefined;
  const marketplace = await startMarketplace({
    logger: silentLogger,
    jwtKey: JWT_KEY,
    secureCookies: false,
    port: 0,
    host: '127.0.0.1',
    databaseUrl: testServerUrl(),
    dataDir: '.data/e2e',
    embeddedPostgresPort: 0,
    databasePrefix: prefix,
    natsStream: 'UNUSED',
    orderExpirationSeconds: options.orderExpirationSeconds ?? 900,
    web: options.web ?? false,
    ...E2E_LIMITS,
  });
  const urls = Object.fromEntries(SERVICES.map((s) => [s, marketplace.services[s]!.database.url]));
  const db = querier(urls);
  return {
    marketplace,
    route: () => marketplace.url,
    databases: urls,
    query: db.query,
    async stop() {
      forgetContracts([marketplace.url]);
      await db.close();
      await marketplace.stop();
      uninstallTracing?.();
      await dropDatabases(urls);
    },
  };
}

/** Each service as its own process (its `main`), on JetStream at `natsUrl` and the test Postgres. */
export async function startProcesses(
  natsUrl: string,
  options: { orderExpirationSeconds?: number } = {},
): Promise<System> {
  const prefix = `e2e_${randomUUID().slice(0, 8)}`;
  const stream = prefix.toUpperCase();
  const urls = await createDatabases(prefix, SERVICES);
  const ports: Record<string, number> = {};
  const children: ChildProcess[] = [];
  for (const service of SERVICES) {
    ports[service] = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/src/main.ts`], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(ports[service]),
        HOST: '127.0.0.1',
        DATABASE_URL: urls[service],
        NATS_URL: natsUrl,
        NATS_STREAM: stream,
        JWT_KEY,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        ORDER_EXPIRATION_SECONDS: String(options.orderExpirationSeconds ?? 900),
        ...E2E_LIMIT_SETTINGS,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
  }
  const base = (service: string) => `http://127.0.0.1:${ports[service]}`;
  try {
    await Promise.all(
      SERVICES.map((service) =>
        waitFor(async () => (await fetch(`${base(service)}/readyz`)).ok, 60_000, 100),
      ),
    );
  } catch (error) {
    // Not ready in time: no system is returned, so nobody else would stop these processes.
    for (const child of children) child.kill('SIGKILL');
    throw error;
  }
  const db = querier(urls);
  return {
    route: (path) => base(path.split('/')[2] === 'users' ? 'auth' : path.split('/')[2]!),
    databases: urls,
    query: db.query,
    async stop() {
      forgetContracts(SERVICES.map(base));
      await db.close();
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      const transport = await JetStreamTransport.connect({ servers: natsUrl, stream, logger: silentLogger });
      await transport.destroy();
      await transport.close();
      await dropDatabases(urls);
    },
  };
}
