/**
 * Plumbing for the cluster benchmarks (`npm run bench`): the system under test started with
 * `startCluster` (in a process of its own) on the machine's Postgres and NATS (fresh databases and stream per run, dropped
 * and deleted afterwards), minted session cookies, a keep-alive HTTP client with per-request
 * timing, percentiles, and the RSS of a replica process.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  ceilingOf,
  createLogger,
  createSessionIssuer,
  databaseUrl,
  HttpLimitsConfig,
  loadConfig,
  type SessionIssuer,
  type WindowLimit,
} from '@ticketing/common';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVICES, freePort, type ServiceName } from '../apps/cluster/src/cluster.ts';
import { entryChoiceFromEnv } from '../apps/cluster/src/entry.ts';
import { childPids } from '../apps/cluster/src/nginx-entry.ts';
import type { HostOptions, HostReady } from './cluster-host.ts';

export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';

export const logger = createLogger('bench', { level: process.env.LOG_LEVEL ?? 'warn', pretty: false });

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
export const benchCeiling = (): WindowLimit => ceilingOf(loadConfig(HttpLimitsConfig, BENCH_LIMIT_SETTINGS));

export function intFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (!value) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer`);
  return parsed;
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
  /** The process running the cluster's supervisor (bench/cluster-host.ts). */
  hostPid: number | undefined;
  /** The HTTP entry: nginx or the Node gateway (in the host process). */
  entry: { kind: string; pids(): number[] };
  /** A pool on a service's database (closed by `close`). */
  pool(service: ServiceName): pg.Pool;
  /** Stops every replica, drops the databases and deletes the stream. */
  close(): Promise<void>;
}

/**
 * Starts the cluster in a child process (bench/cluster-host.ts): its supervisor (and a Node
 * gateway) then has an event loop of its own, not shared with the load generator. Unique databases and stream per run.
 */
export async function startBenchCluster(replicas: number): Promise<BenchCluster> {
  const id = randomUUID().replace(/-/g, '').slice(0, 8);
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
    // CLUSTER_ENTRY=node measures the Node gateway where nginx is installed.
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
    const admin = new pg.Client({ connectionString: databaseUrl(DATABASE_URL, 'postgres') });
    await admin.connect();
    try {
      for (const service of SERVICES)
        await admin.query(`drop database if exists "${databasePrefix}_${service}" with (force)`);
    } finally {
      await admin.end();
    }
    const nc = await connect({ servers: NATS_URL });
    try {
      await (await jetstreamManager(nc)).streams.delete(natsStream).catch(() => false);
    } finally {
      await nc.close();
    }
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
    entry: {
      kind: ready.entry.kind,
      // nginx's workers are replaced when it reloads: read them from its master each time.
      pids: () =>
        ready.entry.kind === 'nginx'
          ? ready.entry.pids.flatMap((pid) => [pid, ...(childPids(pid) ?? [])])
          : ready.entry.pids,
    },
    pool(service) {
      let pool = pools.get(service);
      if (!pool)
        pools.set(service, (pool = new pg.Pool({ connectionString: ready.databaseUrls[service], max: 4 })));
      return pool;
    },
    close,
  };
}

const issuers: Record<string, SessionIssuer> = {};

/** A session cookie as the auth service would issue it, without the scrypt of a sign-up. */
export async function mintCookie(jwtKey: string, userId: string = randomUUID()): Promise<string> {
  const sessions = (issuers[jwtKey] ??= createSessionIssuer({ jwtKey, secureCookies: false }));
  return `session=${await sessions.sign({ id: userId, email: `bench-${userId}@example.test` })}`;
}

export interface Timed {
  status: number;
  body: string;
  /** performance.now() when the request was sent and when its response was complete. */
  sentAt: number;
  doneAt: number;
}

/** A keep-alive `node:http` client (no extra dependency, little client-side overhead). */
export class Client {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string, connections: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  }

  request(method: string, path: string, cookie: string, body?: unknown): Promise<Timed> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const sentAt = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: {
            cookie,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              sentAt,
              doneAt: performance.now(),
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
}

/** CPU seconds (user + system) a process has used so far; NaN when it cannot be read. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of a replica's process, in MiB. */
export function rssMiB(replica: BenchReplica): number {
  const pid = replica.pid;
  if (!pid) return Number.NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates `count` tickets through the API, spread over `sellers` minted sellers. */
export async function createTickets(
  client: Client,
  jwtKey: string,
  count: number,
  sellers: number,
  concurrency: number,
): Promise<{ id: string; cookie: string; version: number }[]> {
  const cookies = await Promise.all(Array.from({ length: sellers }, () => mintCookie(jwtKey)));
  const created = new Array<{ id: string; cookie: string; version: number }>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const cookie = cookies[i % sellers]!;
      const res = await client.request('POST', '/api/tickets', cookie, {
        title: `Bench ticket ${i}`,
        price: 10 + (i % 90),
      });
      if (res.status !== 201) throw new Error(`create ticket: ${res.status} ${res.body}`);
      const body = JSON.parse(res.body) as { id: string; version: number };
      created[i] = { id: body.id, cookie, version: body.version };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return created;
}

/** Waits until the orders service's replica holds `ids` (all of them), polling its database. */
export async function waitForReplica(pool: pg.Pool, ids: string[], timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from tickets where id = any($1::uuid[])',
      [ids],
    );
    if (rows[0]!.n === ids.length) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`orders replica has ${rows[0]!.n}/${ids.length} tickets`);
    await sleep(20);
  }
}
