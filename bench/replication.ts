/**
 * `npm run bench:replication`: how far the orders service's copy of tickets trails the tickets
 * service.
 *
 * 3. Replication lag: `PUT /api/tickets/:id` at a steady open-loop rate
 *    (BENCH_LAG_RATES, "200,1000" per second) for BENCH_LAG_SECONDS (10) over 200 tickets (a
 *    ticket with an update in flight is skipped for the next one), straight to the tickets
 *    replicas, after BENCH_LAG_WARMUP_SECONDS (2) at the rate unmeasured. For each update: from its HTTP
 *    response (the commit point) to the moment a poller (`select id, version from tickets where
 *    id = any(...)` in the orders database, every ~1 ms, over the tickets with an update in
 *    flight or not yet seen) first sees that version; p50/p99,
 *    and the rate actually achieved. Beside it, the bare JetStream publish→consume latency at the
 *    same rate (`@nats-io/jetstream`, a stream of its own, a durable pull consumer acking), from
 *    the publish call to the consumer receiving the message. Aim: p99 < 50 ms at 200/s.
 * 4. Convergence after a burst: BENCH_BURST_TICKETS (1,000) tickets × (create, update, update),
 *    the chains run in parallel (64 at a time): from the last write's response until every row of
 *    the orders replica matches the tickets service's (version and price). Aim: < 1 s.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Client, createTickets, mintCookie, waitForReplica } from './lib/client.ts';
import { fmt, intFromEnv, percentile, sleep, table } from './lib/measure.ts';
import { openLoop, ReplicaWatch, steadyEdits, type LagFigures } from './lib/replica-lag.ts';
import { NATS_URL, runId, startBenchCluster, type BenchCluster } from './lib/systems.ts';

const SECONDS = intFromEnv('BENCH_LAG_SECONDS', 10);
const RATES = (process.env.BENCH_LAG_RATES ?? '200,1000').split(',').map(Number);
const LAG_TICKETS = 200;
const BURST_TICKETS = intFromEnv('BENCH_BURST_TICKETS', 1_000);
const REPLICAS = intFromEnv('BENCH_LAG_REPLICAS', 1);
/**
 * The updates go straight to the tickets replicas (round robin) unless BENCH_LAG_VIA_GATEWAY=1:
 * what is measured starts at the commit, and on 2 cores the gateway's hop took CPU from the path
 * under test (through it, PUTs queued for up to a second at 200/s).
 */
const VIA_GATEWAY = process.env.BENCH_LAG_VIA_GATEWAY === '1';
/**
 * Seconds at the rate before measuring (BENCH_LAG_WARMUP_SECONDS, 2): in the first second from
 * idle the services open their pool connections and compile their hot paths, and the backlog of
 * that second showed as a p99 of 150–300 ms that the rest of the run never saw.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_LAG_WARMUP_SECONDS ?? 2);

export interface LagRow {
  name: string;
  target: number;
  achieved: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ReplicationResult {
  lag: LagRow[];
  convergenceMs: number;
  burstWrites: number;
  burstSeconds: number;
}

async function replicaLag(bench: BenchCluster, client: Client, rate: number): Promise<LagRow> {
  const tickets = await createTickets(client, bench.jwtKey, LAG_TICKETS, 4, 16);
  await waitForReplica(
    bench.pool('orders'),
    tickets.map((t) => t.id),
  );
  const poller = new pg.Client({ connectionString: bench.databaseUrls.orders });
  await poller.connect();
  const watch = new ReplicaWatch(poller);
  const writers = VIA_GATEWAY ? [client] : bench.replicas.tickets.map((r) => new Client(r.url, 256));
  let figures: LagFigures;
  try {
    figures = await steadyEdits(watch, {
      rate,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      tickets,
      catchUpMs: 15_000,
      async edit(ticket, n) {
        const res = await writers[n % writers.length]!.request(
          'PUT',
          `/api/tickets/${ticket.id}`,
          ticket.cookie,
          {
            title: `Updated ${n}`,
            price: 20 + (ticket.version % 50),
          },
        );
        if (res.status !== 200) throw new Error(`update: ${res.status} ${res.body}`);
        return { version: (JSON.parse(res.body) as { version: number }).version, doneAt: res.doneAt };
      },
    });
  } finally {
    await watch.stop();
    await poller.end();
    if (!VIA_GATEWAY) for (const writer of writers) writer.close();
  }
  const { lags } = figures;
  if (figures.failed) console.log(`  ${figures.failed} updates failed (non-200 or no answer) at ${rate}/s`);
  if (figures.skipped)
    console.log(`  (${figures.skipped} updates skipped at ${rate}/s: every ticket had one in flight)`);
  // Deliveries the orders replicas sent back (an early version, a failure), from their /metrics.
  let retried = 0;
  for (const replica of bench.replicas.orders) {
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    for (const line of text.split('\n'))
      if (line.startsWith('ticketing_events_retried_total{')) retried += Number(line.split(' ').at(-1));
  }
  if (retried > 0) console.log(`  ${retried} deliveries to orders so far were sent back to be retried`);
  if (figures.unseen) console.log(`  ${figures.unseen} versions never seen by the replica`);
  return {
    name: `tickets PUT${VIA_GATEWAY ? '' : ' (direct)'} → orders replica (${REPLICAS} replica(s))`,
    target: rate,
    achieved: figures.achieved, // skipped updates not counted
    samples: lags.length,
    p50: percentile(lags, 0.5),
    p99: percentile(lags, 0.99),
    max: lags.at(-1) ?? Number.NaN,
  };
}

async function bareJetStream(rate: number): Promise<LagRow> {
  const stream = `BENCH_LAG_${runId(12).toUpperCase()}`;
  const nc = await connect({ servers: NATS_URL });
  const consumerConnection = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
    });
    await jsm.consumers.add(stream, { durable_name: 'lag', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    const sentAt = new Map<number, number>();
    const lags: number[] = [];
    const total = rate * SECONDS;
    const consumer = await jetstream(consumerConnection).consumers.get(stream, 'lag');
    const messages = await consumer.consume();
    const consumed = (async () => {
      for await (const m of messages) {
        const n = Number(m.string());
        lags.push(performance.now() - sentAt.get(n)!);
        m.ack();
        if (lags.length === total) break;
      }
    })();
    const payloads = new TextEncoder();
    const { sentPerSecond: achieved } = await openLoop(rate, SECONDS, async (n) => {
      sentAt.set(n, performance.now());
      await js.publish(`${stream}.ticket`, payloads.encode(String(n)), { msgID: `${stream}-${n}` });
    });
    await consumed;
    lags.sort((a, b) => a - b);
    return {
      name: 'bare JetStream publish → consume',
      target: rate,
      achieved,
      samples: lags.length,
      p50: percentile(lags, 0.5),
      p99: percentile(lags, 0.99),
      max: lags.at(-1) ?? Number.NaN,
    };
  } finally {
    await jsm.streams.delete(stream).catch(() => false);
    await Promise.all([nc.close(), consumerConnection.close()]);
  }
}

async function convergence(
  bench: BenchCluster,
  client: Client,
): Promise<{ ms: number; writes: number; seconds: number }> {
  const chains = await createChains(bench, client);
  const lastWrite = chains.lastWrite;
  const source = new pg.Client({ connectionString: bench.databaseUrls.tickets });
  await source.connect();
  const { rows: truth } = await source.query<{ id: string; version: number; price_cents: number }>(
    'select id, version, price_cents from tickets',
  );
  await source.end();
  const expected = new Map(truth.map((r) => [r.id, `${r.version}:${r.price_cents}`]));
  const replica = new pg.Client({ connectionString: bench.databaseUrls.orders });
  await replica.connect();
  let convergedAt = Number.NaN;
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const { rows } = await replica.query<{ id: string; version: number; price_cents: number }>(
      'select id, version, price_cents from tickets',
    );
    const now = performance.now();
    let matching = 0;
    for (const r of rows) if (expected.get(r.id) === `${r.version}:${r.price_cents}`) matching++;
    if (matching === expected.size) {
      convergedAt = now;
      break;
    }
    await sleep(2);
  }
  await replica.end();
  return { ms: convergedAt - lastWrite, writes: chains.writes, seconds: chains.seconds };
}

/** BURST_TICKETS chains of (create, update, update), 64 in flight. */
async function createChains(
  bench: BenchCluster,
  client: Client,
): Promise<{ lastWrite: number; writes: number; seconds: number }> {
  const sellers = await Promise.all(Array.from({ length: 8 }, () => mintCookie(bench.jwtKey)));
  let next = 0;
  let lastWrite = 0;
  let writes = 0;
  const started = performance.now();
  const write = async (method: string, path: string, cookie: string, body: unknown, expect: number) => {
    const res = await client.request(method, path, cookie, body);
    if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
    writes++;
    lastWrite = Math.max(lastWrite, res.doneAt);
    return JSON.parse(res.body) as { id: string };
  };
  const worker = async () => {
    while (next < BURST_TICKETS) {
      const i = next++;
      const cookie = sellers[i % sellers.length]!;
      const { id } = await write('POST', '/api/tickets', cookie, { title: `Burst ${i}`, price: 10 }, 201);
      await write('PUT', `/api/tickets/${id}`, cookie, { title: `Burst ${i}`, price: 11 }, 200);
      await write('PUT', `/api/tickets/${id}`, cookie, { title: `Burst ${i}`, price: 12.5 }, 200);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { lastWrite, writes, seconds: (lastWrite - started) / 1000 };
}

export async function runReplication(): Promise<ReplicationResult> {
  console.log(
    `\n== 3. Replication lag (${SECONDS} s per rate) and 4. convergence, ${REPLICAS} replica(s) per service ==`,
  );
  const bench = await startBenchCluster(REPLICAS);
  const lag: LagRow[] = [];
  let burst: { ms: number; writes: number; seconds: number };
  try {
    const client = new Client(bench.url, 256);
    for (const rate of RATES) {
      const row = await replicaLag(bench, client, rate);
      lag.push(row);
      console.log(
        `  ${row.name} at ${rate}/s (achieved ${fmt(row.achieved, 0)}/s): p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms`,
      );
      const bare = await bareJetStream(rate);
      lag.push(bare);
      console.log(
        `  ${bare.name} at ${rate}/s (achieved ${fmt(bare.achieved, 0)}/s): p50 ${fmt(bare.p50)} ms, p99 ${fmt(bare.p99)} ms`,
      );
    }
    burst = await convergence(bench, client);
    client.close();
  } finally {
    await bench.close();
  }
  console.log('');
  console.log(
    table(
      ['path', 'target/s', 'achieved/s', 'samples', 'p50 ms', 'p99 ms', 'max ms'],
      lag.map((r) => [
        r.name,
        String(r.target),
        fmt(r.achieved, 0),
        String(r.samples),
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.max),
      ]),
    ),
  );
  const at200 = lag.find((r) => r.target === 200 && !r.name.startsWith('bare'));
  if (at200)
    console.log(`  aim p99 < 50 ms at 200/s: ${at200.p99 < 50 ? 'met' : 'missed'} (${fmt(at200.p99)} ms)`);
  console.log(
    `\n  convergence: ${BURST_TICKETS} × (create, update, update) = ${burst.writes} writes in ${fmt(burst.seconds, 2)} s; ` +
      `every orders replica row matched ${fmt(burst.ms, 0)} ms after the last write's response (aim < 1,000 ms: ${burst.ms < 1000 ? 'met' : 'missed'})`,
  );
  return { lag, convergenceMs: burst.ms, burstWrites: burst.writes, burstSeconds: burst.seconds };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runReplication();
}
