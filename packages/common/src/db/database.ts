/**
 * PostgreSQL through one driver (node-postgres + Drizzle) in every mode. A service owns one
 * database; it is created if missing and migrated at start, under an advisory lock so that
 * replicas starting together do not race.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { pino, type Logger } from 'pino';
import { ChangeFeed } from './change-feed.ts';
import { CommitSignal, makeUnitsOfWork } from './unit-of-work.ts';

export type Database = NodePgDatabase;
export type Transaction = PgTransaction<
  NodePgQueryResultHKT,
  Record<string, never>,
  ExtractTablesWithRelations<Record<string, never>>
>;
/** Either a database handle or an open transaction: repositories accept both. */
export type Executor = Database | Transaction;

// bigint (int8) columns are counts and sequence numbers here, well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface ServiceDatabase {
  pool: pg.Pool;
  /** Its `transaction` is a unit of work: see unit-of-work.ts. */
  db: Database;
  url: string;
  /** Told of every commit that queued events (units of work, `prepareWriteAndPublish`). */
  commits: CommitSignal;
  /** Which entities committed transactions changed, for caches (started on first subscription). */
  changes: ChangeFeed;
  /** True when a trivial query succeeds; backs `/readyz`. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Settings of the server's side of each session, sent when it starts. When a replica's host
 * vanishes without closing its connections (a node lost, a link cut), the server would keep its
 * sessions until the operating system gave up on them (two hours by default), and with them the
 * row locks of a transaction caught open: a ticket being edited when its replica's host was cut
 * stayed locked, and every later edit of it, from any replica, waited (the multi-host fault tests
 * met this). So the server probes a session after 5 s of silence, 3 probes 2 s apart, and gives up
 * on data unacknowledged for 10 s: within about 15 s the session ends and its locks and advisory
 * locks go.
 */
export const SESSION_KEEPALIVES =
  '-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c tcp_user_timeout=10000';

export function openDatabase(url: string, options: { max?: number; logger?: Logger } = {}): ServiceDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    options: SESSION_KEEPALIVES,
  });
  // A client that loses its server (restart, network cut) emits 'error'. The pool listens on idle
  // clients only; a client checked out (inside a transaction, between two statements) would crash
  // the process with an unhandled 'error'. Its pending or next query rejects anyway, and the pool
  // discards it on release, so the event itself needs no handling.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const logger = options.logger ?? pino({ name: 'database', level: 'warn' });
  const commits = new CommitSignal(pool, logger);
  const changes = new ChangeFeed(url, commits, logger);
  return {
    pool,
    db: makeUnitsOfWork(drizzle(pool), commits),
    url,
    commits,
    changes,
    async ping() {
      try {
        await pool.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await changes.close();
      await pool.end();
    },
  };
}

/** Errors that mean "the database is unreachable right now", as opposed to a failing query. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function isConnectionError(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    // 08xxx: connection exception; 57P01-57P03: the server is shutting down or starting up.
    if (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (
      /Connection terminated|connection error|timeout exceeded when trying to connect|Connection refused/i.test(
        message,
      )
    ) {
      return true;
    }
  }
  return false;
}

/** Creates the database named in `url` if it does not exist yet, connecting to `postgres` to do so. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) throw new Error(`Unsupported database name: ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  client.on('error', () => {}); // a dropped connection rejects the pending query; no crash
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`create database "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error; // created meanwhile by a sibling
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * The reliability tables (outbox, inbox, dead letters) shipped with this package. Resolved through
 * the package, not relative to this file, so it also holds when a service is bundled.
 */
export const COMMON_MIGRATIONS = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@ticketing/common/package.json')),
  'drizzle',
);

/**
 * Applies the common migrations, then the service's own, each set tracked in its own table.
 * Serialised by an advisory lock so concurrent replicas apply each migration exactly once.
 */
export async function migrateDatabase(database: ServiceDatabase, serviceMigrations?: string): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', ['ticketing:migrations']);
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: COMMON_MIGRATIONS, migrationsTable: '__migrations_common' });
    if (serviceMigrations) {
      await migrate(db, { migrationsFolder: serviceMigrations, migrationsTable: '__migrations_service' });
    }
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', ['ticketing:migrations']).catch(() => {});
    client.release();
  }
}

/** Replaces the database name in a server URL: one server, one database per service. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
