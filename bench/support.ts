/**
 * Plumbing for the benchmarks: a Postgres server (the one at DATABASE_URL / TEST_DATABASE_URL, or
 * an embedded one thrown away afterwards), throw-away databases on it, a fixed-size worker pool,
 * latency percentiles and a plain-text table.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  databaseUrl,
  ensureDatabase,
  migrateDatabase,
  openDatabase,
  startEmbeddedPostgres,
  type ServiceDatabase,
} from '@ticketing/common';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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

/** Port of the NATS server at NATS_URL (its CPU is counted). */
const NATS_PORT = process.env.NATS_URL ? new URL(process.env.NATS_URL).port || '4222' : undefined;

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
  const name = `bench_${label}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const url = databaseUrl(serverUrl, name);
  await ensureDatabase(url);
  const database = openDatabase(url, { max: poolSize });
  try {
    await migrateDatabase(database);
    await database.pool.query(extraSql);
  } catch (error) {
    await database.close();
    await dropDatabase(serverUrl, name);
    throw error;
  }
  return {
    ...database,
    async drop() {
      await database.close();
      await dropDatabase(serverUrl, name).catch((error: unknown) => {
        console.warn(`\ncould not drop database ${name} (drop it by hand): ${String(error)}`);
      });
    },
  };
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = openDatabase(serverUrl, { max: 1 });
  try {
    await admin.pool.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.close();
  }
}

/** Runs `task(0..count-1)` on `concurrency` workers, each taking the next index when it is free. */
export async function runWorkers(
  concurrency: number,
  count: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** An unbounded in-memory queue whose `take` waits for an item (or for `close`: undefined). */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private readonly waiters: ((item: T | undefined) => void)[] = [];
  private closed = false;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  take(): Promise<T | undefined> {
    if (this.head < this.items.length) return Promise.resolve(this.items[this.head++]);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Up to `max` items already queued, without waiting. */
  takeWaiting(max: number): T[] {
    const end = Math.min(this.items.length, this.head + max);
    const taken = this.items.slice(this.head, end);
    this.head = end;
    return taken;
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

/**
 * Rejects on the first Ctrl-C or SIGTERM, so a run in progress stops waiting and its `finally`
 * blocks drop the databases and streams it made (a second signal exits at once).
 */
const interrupted = new Promise<never>((_, reject) => {
  const stop = (signal: NodeJS.Signals) => {
    console.warn(`\n${signal}: cleaning up (again to exit now)`);
    process.once(signal, () => process.exit(130));
    reject(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
interrupted.catch(() => {});

/**
 * What one run measured: when it started, when each event became durable at its source (`start`)
 * and when it was handled (`end`), both by event id, in `performance.now()` milliseconds.
 */
export class Recorder {
  private startedAt = 0;
  private readonly starts = new Map<string, number>();
  private readonly ends = new Map<string, number>();
  private lastEnd = 0;
  private producedAt = Number.NaN;
  private resolveAll!: () => void;
  readonly all = new Promise<void>((resolve) => (this.resolveAll = resolve));

  constructor(readonly expected: number) {}

  private cpuBefore?: CpuSample;
  private cpu?: CpuSample;

  /** The clock of the run starts now (the first producer is about to start). */
  async begin(): Promise<void> {
    this.cpuBefore = await sampleCpu(NATS_PORT);
    this.startedAt = performance.now();
  }

  /** Every producer has committed (published, for bare JetStream). */
  produced(): void {
    this.producedAt = performance.now();
  }

  start(id: string): void {
    this.starts.set(id, performance.now());
  }

  end(id: string): void {
    if (this.ends.has(id)) return; // a redelivery: the first handling counts
    this.lastEnd = performance.now();
    this.ends.set(id, this.lastEnd);
    if (this.ends.size === this.expected) this.resolveAll();
  }

  get handled(): number {
    return this.ends.size;
  }

  /** Waits for every event, or throws after `timeoutMs` saying how far it got. */
  async finished(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out: ${this.handled}/${this.expected} events handled`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.all, timeout, interrupted]);
    } finally {
      clearTimeout(timer);
    }
    if (this.cpuBefore) this.cpu = cpuUsed(this.cpuBefore, await sampleCpu(NATS_PORT));
  }

  result(name: string): RunResult {
    const latencies: number[] = [];
    for (const [id, end] of this.ends) {
      const start = this.starts.get(id);
      if (start !== undefined) latencies.push(end - start);
    }
    latencies.sort((a, b) => a - b);
    const seconds = (this.lastEnd - this.startedAt) / 1000;
    return {
      name,
      events: this.ends.size,
      producedSeconds: (this.producedAt - this.startedAt) / 1000,
      seconds,
      perSecond: this.ends.size / seconds,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      cpu: this.cpu,
    };
  }
}

export interface RunResult {
  name: string;
  events: number;
  /** From the start to the last producer commit (publish, for bare JetStream). */
  producedSeconds: number;
  /** From the start to the last event handled. */
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU used between the start and the last event handled. */
  cpu?: CpuSample;
  note?: string;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machine(): string {
  const cpus = os.cpus();
  return [
    `${os.availableParallelism()} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'})`,
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `Node ${process.version}`,
    `${os.type()} ${os.release()}`,
  ].join(', ');
}

/**
 * CPU seconds used so far by this process, by the Postgres backends serving the bench's databases
 * (`bench_*`: not the server's background processes, nor anyone else's sessions) and by the NATS
 * server listening on `natsPort`, and by the whole machine (busy time of all cores).
 */
export interface CpuSample {
  self: number;
  postgres: number;
  nats: number;
  machineBusy: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Reads /proc (Linux); elsewhere only this process's own CPU time is known. */
export async function sampleCpu(natsPort?: string): Promise<CpuSample> {
  const usage = process.cpuUsage();
  const sample: CpuSample = {
    self: (usage.user + usage.system) / 1e6,
    postgres: Number.NaN,
    nats: Number.NaN,
    machineBusy: Number.NaN,
  };
  if (process.platform !== 'linux') return sample;
  const { readFile, readdir } = await import('node:fs/promises');
  sample.postgres = 0;
  if (natsPort) sample.nats = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const name = stat.slice(stat.indexOf('(') + 1, close);
    if (name !== 'postgres' && name !== 'nats-server') continue;
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
    // A backend's title is "postgres: [cluster: ]user database client state".
    if (name === 'postgres' && / bench_\w+ /.test(command)) sample.postgres += seconds;
    if (name === 'nats-server' && natsPort && command.includes(`-p ${natsPort}`)) sample.nats += seconds;
  }
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  sample.machineBusy = (cpu.reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND;
  return sample;
}

export function cpuUsed(before: CpuSample, after: CpuSample): CpuSample {
  return {
    self: after.self - before.self,
    postgres: after.postgres - before.postgres,
    nats: after.nats - before.nats,
    machineBusy: after.machineBusy - before.machineBusy,
  };
}
