/**
 * What the benchmarks measure, started and cleaned up: a Postgres server (the one at DATABASE_URL /
 * TEST_DATABASE_URL, or an embedded one thrown away afterwards), throw-away databases and streams,
 * a service's HTTP server, the cluster under test in a process of its own (`startBenchCluster`),
 * and the settings they share (the machine's Postgres and NATS, the raised rate limits, a logger).
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  buildHttpServer,
  ceilingOf,
  createLogger,
  databaseUrl,
  ensureDatabase,
  freePort,
  HttpLimitsConfig,
  loadConfig,
  migrateDatabase,
  openDatabase,
  startEmbeddedPostgres,
  type HttpServerOptions,
  type ServiceDatabase,
} from '@ticketing/common';
import { SERVICES, type ServiceName } from '../../apps/cluster/src/cluster.ts';
import { entryChoiceFromEnv } from '../../apps/cluster/src/entry.ts';
import type { HostOptions, HostReady } from './cluster-host.ts';

/** The machine's Postgres and NATS, for the benchmarks of services and of the cluster. */
export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';

/** The port of a NATS URL (its server's CPU is counted by `sampleCpu`). */
export function natsPort(url: string): string {
  return new URL(url).port || '4222';
}

export const logger = createLogger('bench', { level: process.env.LOG_LEVEL ?? 'warn', pretty: false });

/** A short random id (hex) for names of databases and streams that are this run's alone. */
export function runId(length = 8): string {
  return randomUUID().replace(/-/g, '').slice(0, length);
}

/**
 * The rate limits of the benchmarks, raised: every request comes from this machine, tens of
 * thousands a minute (the ceiling counts them all the same, so its cost is in the figures).
 */
export const BENCH_LIMIT_SETTINGS = {
  RATE_LIMIT_MAX: '100000000',
  SIGNUP_LIMIT_MAX: '1000000',
  SIGNIN_ADDRESS_LIMIT_MAX: '1000000',
  VERIFY_LIMIT_MAX: '1000000',
};

/** The ceiling of BENCH_LIMIT_SETTINGS, for a server a benchmark builds itself (not from its environment). */
export const benchCeiling = () => ceilingOf(loadConfig(HttpLimitsConfig, BENCH_LIMIT_SETTINGS));

export interface PostgresServer {
  /** URL of the server's `postgres` database. */
  url: string;
  /** How it was obtained, for the report. */
  origin: string;
  version: string;
  /** Settings that decide commit cost, for the report. */
  settings: string;
  stop(): Promise<void>;
}

async function describe(url: string): Promise<Pick<PostgresServer, 'version' | 'settings'>> {
  const admin = openDatabase(url, { max: 1 });
  try {
    const { rows } = await admin.pool.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings
        where name in ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')
        order by name`,
    );
    const get = (name: string) => rows.find((r) => r.name === name)?.setting ?? '?';
    return {
      version: `PostgreSQL ${get('server_version')}`,
      settings: `fsync=${get('fsync')}, synchronous_commit=${get('synchronous_commit')}, shared_buffers=${get('shared_buffers')}×8kB, max_connections=${get('max_connections')}`,
    };
  } finally {
    await admin.close();
  }
}

/** The server at DATABASE_URL or TEST_DATABASE_URL, else an embedded one in a temp dir. */
export async function startPostgres(): Promise<PostgresServer> {
  const given = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (given) {
    const url = databaseUrl(given, 'postgres');
    return { url, origin: `server at ${new URL(url).host}`, ...(await describe(url)), stop: async () => {} };
  }
  const port = await freePort();
  const server = await startEmbeddedPostgres({
    dataDir: path.join(os.tmpdir(), `ticketing-bench-pg-${process.pid}`),
    port,
    persistent: false,
  });
  try {
    return {
      url: server.url,
      origin: `embedded, port ${port}`,
      ...(await describe(server.url)),
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Runs `task` on a connection to the `postgres` database of the server at `serverUrl`. */
async function asAdmin<T>(serverUrl: string, task: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  try {
    return await task(admin);
  } finally {
    await admin.end();
  }
}

/** Drops the databases `names` of the server at `serverUrl` (those that exist), sessions and all. */
export async function dropDatabases(serverUrl: string, names: string[]): Promise<void> {
  await asAdmin(serverUrl, async (admin) => {
    for (const name of names) await admin.query(`drop database if exists "${name}" with (force)`);
  });
}

/** Drops every database of the server whose name starts with `prefix`. */
export async function dropDatabasesStartingWith(serverUrl: string, prefix: string): Promise<void> {
  await asAdmin(serverUrl, async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [prefix],
    );
    for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
  });
}

/** Deletes a JetStream stream, if it is there. */
export async function deleteStream(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

export type BenchDatabase = ServiceDatabase & { drop(): Promise<void> };

/**
 * A fresh database with the common reliability tables (outbox, inbox, dead letters), exactly as a
 * service has them, plus `extraSql` (the bench's own domain table).
 */
export async function createDatabase(
  serverUrl: string,
  label: string,
  extraSql: string,
  poolSize: number,
): Promise<BenchDatabase> {
  const name = `bench_${label}_${runId()}`;
  const url = databaseUrl(serverUrl, name);
  await ensureDatabase(url);
  const database = openDatabase(url, { max: poolSize });
  try {
    await migrateDatabase(database);
    await database.pool.query(extraSql);
  } catch (error) {
    await database.close();
    await dropDatabases(serverUrl, [name]);
    throw error;
  }
  return {
    ...database,
    async drop() {
      await database.close();
      await dropDatabases(serverUrl, [name]).catch((error: unknown) => {
        console.warn(`\ncould not drop database ${name} (drop it by hand): ${String(error)}`);
      });
    },
  };
}

/**
 * A service's HTTP server as the benchmarks build it: a key of its own, no readiness checks, the
 * benchmarks' raised rate limits.
 */
export function benchHttpServer(service: string, options: Partial<HttpServerOptions> = {}) {
  return buildHttpServer({
    logger,
    jwtKey: `bench-${randomUUID()}`,
    secureCookies: false,
    title: service,
    service,
    readiness: {},
    rateLimits: { ceiling: benchCeiling() },
    ...options,
  });
}

export interface BenchReplica {
  service: ServiceName;
  name: string;
  url: string;
  pid: number | undefined;
}

/** The cluster under test, seen from the benchmark's process. */
export interface BenchCluster {
  url: string;
  databaseUrls: Record<ServiceName, string>;
  replicas: Record<ServiceName, BenchReplica[]>;
  jwtKey: string;
  replicaCount: number;
  /** The process running the cluster's supervisor (bench/lib/cluster-host.ts). */
  hostPid: number | undefined;
  /** The HTTP entry: HAProxy or the Node gateway (in the host process). */
  entry: { kind: string; pids(): number[] };
  /** A pool on a service's database (closed by `close`). */
  pool(service: ServiceName): pg.Pool;
  /** Stops every replica, drops the databases and deletes the stream. */
  close(): Promise<void>;
}

/**
 * Starts the cluster in a child process (bench/lib/cluster-host.ts) on the machine's Postgres and
 * NATS: its supervisor (and a Node gateway) then has an event loop of its own, not shared with the
 * load generator. Unique databases and stream per run, dropped and deleted by `close`.
 */
export async function startBenchCluster(replicas: number): Promise<BenchCluster> {
  const id = runId();
  const databasePrefix = `bench_cluster_${id}`;
  const natsStream = `BENCH_CLUSTER_${id.toUpperCase()}`;
  const jwtKey = `bench-${randomUUID()}`;
  const options: HostOptions = {
    port: await freePort(),
    replicas,
    databaseUrl: DATABASE_URL,
    databasePrefix,
    natsUrl: NATS_URL,
    natsStream,
    jwtKey,
    orderExpirationSeconds: 900,
    env: { LOG_LEVEL: 'warn', ...BENCH_LIMIT_SETTINGS },
    output: 'ignore',
    // CLUSTER_ENTRY=node measures the Node gateway where HAProxy is installed.
    entry: entryChoiceFromEnv(),
  };
  const host = fork(fileURLToPath(new URL('./cluster-host.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => host.once('exit', () => resolve()));
  const pools = new Map<string, pg.Pool>();
  const close = async () => {
    await Promise.all([...pools.values()].map((p) => p.end()));
    if (host.exitCode === null && host.signalCode === null) {
      host.send({ type: 'stop' });
      await exited;
    }
    await dropDatabases(
      DATABASE_URL,
      SERVICES.map((service) => `${databasePrefix}_${service}`),
    );
    await deleteStream(NATS_URL, natsStream);
  };
  let ready: HostReady;
  try {
    ready = await new Promise<HostReady>((resolve, reject) => {
      host.once('message', (message: HostReady) => resolve(message));
      host.once('exit', (code) => reject(new Error(`cluster host exited (${code}) before it was ready`)));
      host.send(options);
    });
  } catch (error) {
    await close();
    throw error;
  }
  const byService = {} as Record<ServiceName, BenchReplica[]>;
  for (const service of SERVICES)
    byService[service] = ready.replicas.filter((r) => r.service === service) as BenchReplica[];
  return {
    url: ready.url,
    databaseUrls: ready.databaseUrls,
    replicas: byService,
    jwtKey,
    replicaCount: replicas,
    hostPid: host.pid,
    entry: { kind: ready.entry.kind, pids: () => ready.entry.pids },
    pool(service) {
      let pool = pools.get(service);
      if (!pool)
        pools.set(service, (pool = new pg.Pool({ connectionString: ready.databaseUrls[service], max: 4 })));
      return pool;
    },
    close,
  };
}
