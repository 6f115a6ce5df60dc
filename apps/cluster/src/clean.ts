/**
 * `npm run clean:cluster`: removes what runs of the scale-out mode leave behind, which outlives
 * them on purpose (a cluster started again finds its data): its databases, `<prefix>_<service>`,
 * and its JetStream stream, named by the same settings as `npm run start:cluster` reads. Nothing
 * is removed while anything is connected to those databases (a cluster still running): it says
 * so, and what to stop.
 */
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { databaseUrl, loadConfig } from '@ticketing/common';
import { SERVICES } from './cluster.ts';
import { StoreSettings } from './settings.ts';

export interface CleanOptions {
  /** A PostgreSQL server URL (any database on it). */
  databaseUrl: string;
  databasePrefix: string;
  natsUrl: string;
  natsStream: string;
}

export interface CleanReport {
  /** The databases dropped (those that existed). */
  databases: string[];
  /** Whether the stream existed (and was deleted). */
  stream: boolean;
}

/** Thrown, before anything is removed, while something uses the cluster's databases. */
export class ClusterInUse extends Error {}

export async function cleanCluster(options: CleanOptions): Promise<CleanReport> {
  const names = SERVICES.map((service) => `${options.databasePrefix}_${service}`);
  const admin = new pg.Client({ connectionString: databaseUrl(options.databaseUrl, 'postgres') });
  await admin.connect();
  try {
    // Both engines reachable before anything is removed, so that a run never stops half done.
    const nc = await connect({ servers: options.natsUrl, reconnect: false, timeout: 5_000 }).catch(
      (error: unknown) => {
        throw new Error(`NATS at ${options.natsUrl} cannot be reached (${String(error)}); nothing removed`);
      },
    );
    try {
      const { rows: busy } = await admin.query<{ datname: string; connections: number }>(
        `select datname, count(*)::int as connections from pg_stat_activity
          where datname = any($1) group by datname order by datname`,
        [names],
      );
      if (busy.length > 0) {
        const uses = busy.map((row) => `${row.datname} (${row.connections})`).join(', ');
        throw new ClusterInUse(
          `in use: ${uses}. Stop the cluster using them first (Ctrl-C in its terminal); nothing removed`,
        );
      }
      const { rows: existing } = await admin.query<{ datname: string }>(
        'select datname from pg_database where datname = any($1)',
        [names],
      );
      const present = new Set(existing.map((row) => row.datname));
      const dropped: string[] = [];
      for (const name of names.filter((n) => present.has(n))) {
        await admin.query(`drop database if exists "${name}"`);
        dropped.push(name);
      }
      let stream = true;
      try {
        await (await jetstreamManager(nc)).streams.delete(options.natsStream);
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound))
          throw error;
        stream = false;
      }
      return { databases: dropped, stream };
    } finally {
      await nc.close();
    }
  } finally {
    await admin.end();
  }
}

// CLI: the same environment as `npm run start:cluster`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = loadConfig(Type.Object(StoreSettings));
  const where = `${config.DATABASE_URL.replace(/\/\/[^@]*@/, '//')} and ${config.NATS_URL}`;
  try {
    const report = await cleanCluster({
      databaseUrl: config.DATABASE_URL,
      databasePrefix: config.DATABASE_PREFIX,
      natsUrl: config.NATS_URL,
      natsStream: config.NATS_STREAM,
    });
    for (const name of report.databases) console.log(`dropped database ${name}`);
    if (report.databases.length === 0) console.log(`no database ${config.DATABASE_PREFIX}_* to drop`);
    console.log(
      report.stream ? `deleted stream ${config.NATS_STREAM}` : `no stream ${config.NATS_STREAM} to delete`,
    );
    console.log(
      `nothing of the cluster's (${config.DATABASE_PREFIX}_*, ${config.NATS_STREAM}) is left on ${where}`,
    );
  } catch (error) {
    console.error(`clean:cluster: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
