/**
 * `npm run bench:hosts`: the marketplace spread over hosts, as `apps/cluster/test/hosts.test.ts`
 * builds them on this machine with network namespaces (three NATS servers in one JetStream
 * cluster, a PostgreSQL host, one replica of every service on each of two service hosts, HAProxy
 * on an entry host), run once with the stream at three replicas and once at one.
 *
 * 1. Replication lag: `PUT /api/tickets/:id` through the entry at a steady open-loop rate
 *    (BENCH_HOSTS_RATE, 100 per second) for BENCH_HOSTS_SECONDS (10) over 200 tickets (a ticket
 *    with an edit in flight is skipped for the next one), after 2 s at the rate unmeasured. For
 *    each edit: from its HTTP response (the commit) to the moment a poller of the orders database
 *    first sees that version; p50, p95, p99.
 * 2. Events per second: 64 writers edit the 200 tickets as fast as the entry answers for
 *    BENCH_HOSTS_SECONDS; the edits answered per second, and the events carried per second (the
 *    edits over the time from the first edit until the orders replica holds the last version of
 *    every ticket).
 * 3. Leader loss (three replicas only): while a probe reprices a ticket every 100 ms, the NATS
 *    node leading the stream is killed (SIGKILL); the time until an edit made after the kill
 *    reaches the orders replica. The node is then started again and the cluster waited on until
 *    every copy of the stream is current. BENCH_HOSTS_KILLS (3) times; each figure and the median.
 *
 * Needs root, iproute2, nats-server, haproxy and Debian's PostgreSQL server binaries.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { waitFor } from '@ticketing/common/testing';
import { Bed, bedUnavailable } from '../apps/cluster/src/hosts/bed.ts';
import { FlowProbe } from '../apps/cluster/src/hosts/flow-probe.ts';
import { Client, createTickets, waitForReplica } from './lib/client.ts';
import { fmt, intFromEnv, machine, percentile, sleep, table } from './lib/measure.ts';
import { ReplicaWatch, steadyEdits, type EditedTicket } from './lib/replica-lag.ts';
import { BENCH_LIMIT_SETTINGS } from './lib/systems.ts';

const RATE = intFromEnv('BENCH_HOSTS_RATE', 100);
const SECONDS = intFromEnv('BENCH_HOSTS_SECONDS', 10);
const KILLS = intFromEnv('BENCH_HOSTS_KILLS', 3);
const WARMUP_SECONDS = 2;
const TICKETS = 200;
const WRITERS = 64;
const JWT_KEY = 'bench-hosts-jwt-key-0123456789abcdef';

interface Figures {
  replicas: number;
  achieved: number;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  editsPerSecond: number;
  eventsPerSecond: number;
  leaderLoss: number[];
  current: number[];
}

async function edit(
  client: Client,
  ticket: EditedTicket,
  n: number,
): Promise<{ version: number; doneAt: number }> {
  const res = await client.request('PUT', `/api/tickets/${ticket.id}`, ticket.cookie, {
    title: `Edited ${n}`,
    price: 10 + (n % 90),
  });
  if (res.status !== 200) throw new Error(`edit: ${res.status} ${res.body}`);
  ticket.version = (JSON.parse(res.body) as { version: number }).version;
  return { version: ticket.version, doneAt: res.doneAt };
}

/** Steady edits at RATE per second: the lag of each measured one, and the rate achieved. */
async function steadyLag(client: Client, tickets: EditedTicket[], watch: ReplicaWatch) {
  const figures = await steadyEdits(watch, {
    rate: RATE,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    tickets,
    catchUpMs: 60_000,
    edit: (ticket, n) => edit(client, ticket, n),
  });
  if (figures.failed) console.log(`  ${figures.failed} edits failed`);
  if (figures.unseen) throw new Error(`${figures.unseen} edits never reached the orders replica`);
  const { lags } = figures;
  return {
    achieved: figures.achieved,
    samples: lags.length,
    p50: percentile(lags, 0.5),
    p95: percentile(lags, 0.95),
    p99: percentile(lags, 0.99),
  };
}

/** As many edits as the entry answers, then until the replica holds them all. */
async function throughput(client: Client, tickets: EditedTicket[], watch: ReplicaWatch) {
  let edits = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const mine = tickets.filter((_, i) => i % WRITERS === w);
      for (let n = 0; performance.now() < until; n++) {
        await edit(client, mine[n % mine.length]!, n);
        edits++;
      }
    }),
  );
  const answered = performance.now();
  const caughtUp = await watch.until(new Map(tickets.map((t) => [t.id, t.version])), 120_000);
  return {
    editsPerSecond: edits / ((answered - started) / 1000),
    eventsPerSecond: edits / ((caughtUp - started) / 1000),
  };
}

async function leaderLosses(bed: Bed): Promise<{ lost: number[]; current: number[] }> {
  const probe = await FlowProbe.start(bed.url, bed.databaseUrls.orders);
  const lost: number[] = [];
  const current: number[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      await sleep(2_000);
      const leader = (await bed.streamInfo())?.leader;
      if (!leader) throw new Error('the stream has no leader');
      const killedAt = Date.now();
      await bed.natsNode(leader).stop('SIGKILL');
      lost.push((await probe.flowingAfter(killedAt, 60_000)) - killedAt);
      const restartedAt = Date.now();
      bed.natsNode(leader).start();
      await waitFor(() => bed.natsHealthy(), 180_000, 250);
      current.push(Date.now() - restartedAt);
      console.log(
        `  leader ${leader} killed: events flowed again after ${lost.at(-1)} ms; ` +
          `started again, current after ${current.at(-1)} ms`,
      );
    }
  } finally {
    await probe.stop();
  }
  return { lost, current };
}

async function run(streamReplicas: number): Promise<Figures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-bench-hosts-'));
  const bed = await Bed.start({
    dir,
    streamReplicas,
    env: { LOG_LEVEL: 'error', JWT_KEY, ...BENCH_LIMIT_SETTINGS },
  });
  const replica = new pg.Client({ connectionString: bed.databaseUrls.orders });
  const replicaPool = new pg.Pool({ connectionString: bed.databaseUrls.orders, max: 2 });
  const client = new Client(bed.url, WRITERS);
  try {
    await bed.waitUntilReady(180_000);
    await waitFor(() => bed.natsHealthy(), 60_000, 250);
    await replica.connect();
    console.log(
      `stream at ${streamReplicas} replica(s): ready on ${bed.hosts.services.length} service hosts`,
    );
    const tickets = await createTickets(client, JWT_KEY, TICKETS, 4, 16);
    await waitForReplica(
      replicaPool,
      tickets.map((t) => t.id),
    );
    const watch = new ReplicaWatch(replica, 2);
    try {
      const lag = await steadyLag(client, tickets, watch);
      const rates = await throughput(client, tickets, watch);
      const losses = streamReplicas > 1 ? await leaderLosses(bed) : { lost: [], current: [] };
      return { replicas: streamReplicas, ...lag, ...rates, leaderLoss: losses.lost, current: losses.current };
    } finally {
      await watch.stop();
    }
  } finally {
    client.close();
    await replica.end().catch(() => {});
    await replicaPool.end().catch(() => {});
    await bed.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The nearest-rank median (of an even count, the lower of the middle two). */
function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

async function main(): Promise<void> {
  const unavailable = await bedUnavailable();
  if (unavailable) {
    console.error(`bench:hosts cannot build its hosts here: ${unavailable}`);
    process.exitCode = 1;
    return;
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build-services.ts'], {
    cwd: root,
  });
  console.log(`bench:hosts on ${machine()}`);
  const results: Figures[] = [];
  for (const replicas of [3, 1]) results.push(await run(replicas));
  console.log(
    '\n' +
      table(
        [
          'stream replicas',
          `edits/s at ${RATE}/s`,
          'lag p50 ms',
          'p95 ms',
          'p99 ms',
          'edits/s answered',
          'events/s carried',
          'leader loss → flowing, ms',
        ],
        results.map((r) => [
          String(r.replicas),
          fmt(r.achieved, 0),
          fmt(r.p50),
          fmt(r.p95),
          fmt(r.p99),
          fmt(r.editsPerSecond, 0),
          fmt(r.eventsPerSecond, 0),
          r.leaderLoss.length
            ? `median ${fmt(median(r.leaderLoss), 0)} (${r.leaderLoss.join(', ')}); current again ${r.current.join(', ')}`
            : '–',
        ]),
      ),
  );
}

await main();
