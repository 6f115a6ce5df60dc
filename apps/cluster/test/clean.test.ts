/**
 * `npm run clean:cluster` removes what a cluster run leaves, its databases and its stream, found
 * by the settings `npm run start:cluster` reads; and nothing at all while the databases are in
 * use. Needs a NATS server with JetStream (NATS_URL); skipped, saying so, without one.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { databaseUrl, ensureDatabase, JetStreamTransport, makeEvent } from '@ticketing/common';
import { silentLogger, testServerUrl } from '@ticketing/common/testing';
import { SERVICES } from '../src/cluster.ts';
import { cleanCluster, ClusterInUse } from '../src/clean.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl)
  console.warn('clean:cluster tests skipped: set NATS_URL (e.g. nats://127.0.0.1:4222) to run them');

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// Each DROP DATABASE waits for a checkpoint, and the CLI starts under tsx: slow on a busy machine.

describe.runIf(natsUrl)('npm run clean:cluster', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 8);
  const prefix = `clean_${id}`;
  const stream = `CLEAN_${id.toUpperCase()}`;
  // A database whose name only starts like the cluster's: not the cluster's, and kept.
  const neighbour = `${prefix}_auth_kept`;
  const server = () => testServerUrl();

  async function databasesLike(pattern: string): Promise<string[]> {
    const client = new pg.Client({ connectionString: databaseUrl(server(), 'postgres') });
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>(
        'select datname from pg_database where datname like $1 order by datname',
        [pattern],
      );
      return rows.map((row) => row.datname);
    } finally {
      await client.end();
    }
  }

  async function streamExists(): Promise<boolean> {
    const nc = await connect({ servers: natsUrl });
    try {
      return await (await jetstreamManager(nc)).streams.info(stream).then(
        () => true,
        () => false,
      );
    } finally {
      await nc.close();
    }
  }

  /** What a cluster run leaves: a database per service and a stream holding an event. */
  async function leaveWhatARunLeaves(): Promise<void> {
    for (const service of SERVICES) await ensureDatabase(databaseUrl(server(), `${prefix}_${service}`));
    await ensureDatabase(databaseUrl(server(), neighbour));
    const transport = await JetStreamTransport.connect({ servers: natsUrl!, stream, logger: silentLogger });
    try {
      const event = makeEvent('expiration:complete', { orderId: randomUUID() });
      await transport.publish(event.type, event.id, event);
    } finally {
      await transport.close();
    }
  }

  const run = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'apps/cluster/src/clean.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });

  afterAll(async () => {
    const client = new pg.Client({ connectionString: databaseUrl(server(), 'postgres') });
    await client.connect();
    try {
      for (const name of await databasesLike(`${prefix}%`))
        await client.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await client.end();
    }
  });

  it('removes nothing while a database is in use, and says what to stop', async () => {
    await leaveWhatARunLeaves();
    const client = new pg.Client({ connectionString: databaseUrl(server(), `${prefix}_orders`) });
    await client.connect();
    try {
      const cleaning = cleanCluster({
        databaseUrl: server(),
        databasePrefix: prefix,
        natsUrl: natsUrl!,
        natsStream: stream,
      });
      await expect(cleaning).rejects.toThrow(ClusterInUse);
      await expect(cleaning).rejects.toThrow(`in use: ${prefix}_orders (1). Stop the cluster`);
    } finally {
      await client.end();
    }
    expect(await databasesLike(`${prefix}%`)).toHaveLength(SERVICES.length + 1);
    expect(await streamExists()).toBe(true);
  }, 120_000);

  it('drops the databases <prefix>_<service> and deletes the stream, from the environment start:cluster reads', async () => {
    await leaveWhatARunLeaves();
    const { stdout } = await run({
      DATABASE_URL: server(),
      DATABASE_PREFIX: prefix,
      NATS_URL: natsUrl!,
      NATS_STREAM: stream,
    });
    for (const service of SERVICES) expect(stdout).toContain(`dropped database ${prefix}_${service}\n`);
    expect(stdout).toContain(`deleted stream ${stream}\n`);
    expect(await databasesLike(`${prefix}%`)).toEqual([neighbour]);
    expect(await streamExists()).toBe(false);

    // Once more: nothing left to remove, which is no failure.
    expect(
      await cleanCluster({
        databaseUrl: server(),
        databasePrefix: prefix,
        natsUrl: natsUrl!,
        natsStream: stream,
      }),
    ).toEqual({ databases: [], stream: false });
  }, 120_000);

  it('exits non-zero, removing nothing, when NATS cannot be reached', async () => {
    await ensureDatabase(databaseUrl(server(), `${prefix}_auth`));
    const failed = run({
      DATABASE_URL: server(),
      DATABASE_PREFIX: prefix,
      NATS_URL: 'nats://127.0.0.1:9',
      NATS_STREAM: stream,
    });
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('NATS at nats://127.0.0.1:9 cannot be reached') as unknown,
    });
    expect(await databasesLike(`${prefix}_auth`)).toEqual([`${prefix}_auth`]);
  }, 120_000);
});
