/**
 * `npm run bench:bus`: what the event bus costs on top of the work it carries.
 *
 * For each transport (in-process always; NATS JetStream when NATS_URL is set) it pushes
 * BENCH_EVENTS (10,000) events through the full path a real event takes:
 *
 *   producer service DB: transaction { insert domain row; publishEvent → outbox row }
 *     → OutboxRelay (woken at commit; publishes; marks rows sent) → transport
 *     → consumer service: startListeners → transaction { inbox rows; handler inserts a replica
 *       row per event } (deliveries that wait share one, as `ListenerQueue` does)
 *
 * with BENCH_PRODUCERS (16) producers committing concurrently and the listener at its default
 * concurrency (32), and prints publish→handled throughput over the whole run (first producer start
 * to last consumer commit) and the p50/p99 latency from each producer commit to the commit of the
 * consumer's transaction for that event.
 *
 * Beside it, in the same run, two ceilings doing the same work with no abstraction:
 * - bare Postgres: the same two transactions (domain + outbox row; inbox + replica rows) issued
 *   directly with `pg`, the consumers sharing transactions as the listener does (its lanes, and
 *   every event waiting, up to its batch size), handed from producers to consumers through an
 *   in-memory queue (a perfect, free bus);
 * - bare JetStream (NATS_URL only): the `@nats-io/jetstream` client publishing the same payloads
 *   with msgID from as many publishers, and a durable pull consumer (`consume()`) acking them.
 * The ratio of the full path's throughput to the lower applicable ceiling says how much of the
 * machine the abstraction leaves on the table (aim: at least 0.5). Producers run at
 * BENCH_PRODUCERS in every path.
 *
 * It also prints the CPU each path used (this process, the Postgres backends of its databases, the
 * NATS server) per event, and the machine's load: on a 2-core machine anything else running
 * moves the throughput figures a lot, the CPU per event much less.
 *
 * Every scenario gets fresh databases (dropped afterwards) and its own stream (deleted afterwards),
 * and runs once unmeasured with BENCH_WARMUP events first, so the JIT and connections are warm.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { sql } from 'drizzle-orm';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  PubHeaders,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import {
  DEFAULT_BATCHING,
  DEFAULT_LISTENER_CONCURRENCY,
  defineListener,
  InProcessBus,
  JetStreamTransport,
  makeEvent,
  OutboxRelay,
  publishEvent,
  startListeners,
  type EventData,
  type EventEnvelope,
  type ServiceDatabase,
  type Transport,
} from '@ticketing/common';
import {
  cpuUsed,
  fixed as fmt,
  intFromEnv,
  loadAverage,
  machine,
  percentile,
  runWorkers,
  sampleCpu,
  table,
  type CpuSample,
} from './lib/measure.ts';
import {
  createDatabase,
  logger,
  natsPort,
  runId,
  startPostgres,
  type BenchDatabase,
  type PostgresServer,
} from './lib/systems.ts';

const EVENTS = intFromEnv('BENCH_EVENTS', 10_000);
const PRODUCERS = intFromEnv('BENCH_PRODUCERS', 16);
const LISTENER_CONCURRENCY = intFromEnv('BENCH_LISTENER_CONCURRENCY', DEFAULT_LISTENER_CONCURRENCY);
const WARMUP = intFromEnv('BENCH_WARMUP', 500);
const NATS_URL = process.env.NATS_URL;
const TIMEOUT_MS = 120_000;
/** Producer pool: one connection per producer plus the relay's queries. */
const PRODUCER_POOL = PRODUCERS + 4;
/** Consumer pool: a service's default (openDatabase's `max`); the listener's lanes take two. */
const CONSUMER_POOL = 10;
const GROUP = 'bench-consumer';

/** Port of the NATS server at NATS_URL (its CPU is counted). */
const NATS_PORT = NATS_URL ? natsPort(NATS_URL) : undefined;

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

/** The producer's own state: a ticket per event, as the tickets service would write. */
const PRODUCER_SQL = `
  create table bench_tickets (
    id uuid primary key, version integer not null, title text not null, price integer not null,
    user_id uuid not null, created_at timestamptz not null default now())`;
/** The consumer's effect: a replica row per event, as the orders service keeps. */
const CONSUMER_SQL = `
  create table bench_ticket_replica (
    id uuid primary key, version integer not null, title text not null, price integer not null)`;

type Ticket = EventData<'ticket:created'>;

function tickets(count: number): Ticket[] {
  const userId = randomUUID();
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    version: 0,
    title: `Bench ticket ${i}`,
    price: 1_000 + i,
    faceValue: 1_000 + i,
    userId,
    listed: true,
    timesSold: 0,
  }));
}

/**
 * The consumer's database, with `db.transaction` reporting the event id of each transaction that
 * committed: that is the end of an event's path ("handled"). The listener tags its transaction
 * with the event id. (A WeakMap, not AsyncLocalStorage: on Node 20 that turns on promise hooks,
 * which slow every await of the path being measured.)
 */
/** The events a consumer transaction applied (several when deliveries share it: `ListenerQueue`). */
const eventsOfTransaction = new WeakMap<object, string[]>();

function reportingCommits(database: ServiceDatabase, committed: (eventId: string) => void): ServiceDatabase {
  const db = Object.create(database.db) as ServiceDatabase['db'];
  db.transaction = async (run, config) => {
    let transaction: object | undefined;
    const result = await database.db.transaction((tx) => {
      transaction = tx;
      return run(tx);
    }, config);
    for (const eventId of (transaction && eventsOfTransaction.get(transaction)) ?? []) committed(eventId);
    return result;
  };
  return { ...database, db };
}

const replicaListener = defineListener('ticket:created', async ({ tx, event, data }) => {
  await tx.execute(sql`
    insert into bench_ticket_replica (id, version, title, price)
    values (${data.id}, ${data.version}, ${data.title}, ${data.price})`);
  const applied = eventsOfTransaction.get(tx);
  if (applied) applied.push(event.id);
  else eventsOfTransaction.set(tx, [event.id]);
});

interface Transports {
  producer: Transport;
  consumer: Transport;
  /** Releases the transports (and deletes whatever they created on a broker). */
  close(): Promise<void>;
}

async function inProcessTransports(): Promise<Transports> {
  const bus = new InProcessBus();
  return { producer: bus, consumer: bus, close: () => bus.close() };
}

/** Two connections, as two services would have, on a stream of their own. */
async function jetStreamTransports(servers: string): Promise<Transports> {
  const stream = `BENCH_${runId(12).toUpperCase()}`;
  const producer = await JetStreamTransport.connect({ servers, stream, logger });
  const consumer = await JetStreamTransport.connect({ servers, stream, logger });
  return {
    producer,
    consumer,
    async close() {
      await consumer.destroy().catch((error: unknown) => {
        console.warn(`\ncould not delete stream ${stream} (delete it by hand): ${String(error)}`);
      });
      await Promise.all([producer.close(), consumer.close()]);
    },
  };
}

/** Runs `body` with a producer and a consumer database, dropping both afterwards. */
async function withDatabases<T>(
  server: PostgresServer,
  body: (producer: BenchDatabase, consumer: BenchDatabase) => Promise<T>,
): Promise<T> {
  const producer = await createDatabase(server.url, 'producer', PRODUCER_SQL, PRODUCER_POOL);
  try {
    const consumer = await createDatabase(server.url, 'consumer', CONSUMER_SQL, CONSUMER_POOL);
    try {
      return await body(producer, consumer);
    } finally {
      await consumer.drop();
    }
  } finally {
    await producer.drop();
  }
}

async function count(database: ServiceDatabase, from: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(`select count(*)::int as n from ${from}`);
  return rows[0]!.n;
}

/** Checks that every event had its effect exactly once; returns a note when not. */
async function verify(
  consumer: ServiceDatabase,
  events: number,
  withInbox: boolean,
): Promise<string | undefined> {
  const problems: string[] = [];
  const replicas = await count(consumer, 'bench_ticket_replica');
  if (replicas !== events) problems.push(`${replicas} replica rows`);
  if (withInbox) {
    const inbox = await count(consumer, 'inbox');
    const dead = await count(consumer, 'dead_letters');
    if (inbox !== events) problems.push(`${inbox} inbox rows`);
    if (dead !== 0) problems.push(`${dead} dead letters`);
  }
  return problems.length > 0 ? `INCOMPLETE: ${problems.join(', ')} for ${events} events` : undefined;
}

/** The full path: outbox → relay → transport → listener with inbox. */
async function fullPath(
  name: string,
  server: PostgresServer,
  openTransports: () => Promise<Transports>,
  events: number,
): Promise<RunResult> {
  return withDatabases(server, async (producerDb, consumerDb) => {
    const payloads = tickets(events);
    const recorder = new Recorder(events);
    const transports = await openTransports();
    let relay: OutboxRelay | undefined;
    try {
      // Listeners first: the in-process bus retains by interest, as the one-process runner does.
      const listeners = await startListeners({
        group: GROUP,
        database: reportingCommits(consumerDb, (id) => recorder.end(id)),
        transport: transports.consumer,
        listeners: [replicaListener],
        logger,
        concurrency: LISTENER_CONCURRENCY,
      });
      try {
        relay = new OutboxRelay({ database: producerDb, transport: transports.producer, logger });
        relay.start();

        await recorder.begin();
        await runWorkers(PRODUCERS, events, async (i) => {
          const ticket = payloads[i]!;
          const event = await producerDb.db.transaction(async (tx) => {
            await tx.execute(sql`
              insert into bench_tickets (id, version, title, price, user_id)
              values (${ticket.id}, ${ticket.version}, ${ticket.title}, ${ticket.price}, ${ticket.userId})`);
            return publishEvent(tx, 'ticket:created', ticket);
          });
          recorder.start(event.id); // committed
        });
        recorder.produced();
        await recorder.finished(TIMEOUT_MS);
        await relay.drain(30_000); // every row marked sent: nothing left for a next run
      } finally {
        await listeners.close();
      }
      const result = recorder.result(name);
      return { ...result, note: await verify(consumerDb, events, true) };
    } finally {
      await relay?.stop();
      await transports.close();
    }
  });
}

/** Ceiling 1: the same transactions straight through `pg`, handed over by an in-memory queue. */
async function barePostgres(name: string, server: PostgresServer, events: number): Promise<RunResult> {
  return withDatabases(server, async (producerDb, consumerDb) => {
    const envelopes = tickets(events).map((ticket) => makeEvent('ticket:created', ticket));
    const recorder = new Recorder(events);
    const queue = new AsyncQueue<string>();

    // Shaped like the listener's `ListenerQueue`: `lanes` consumers, each taking into one
    // transaction every event waiting when it comes free (up to `maxBatch`).
    const { lanes, maxBatch } = DEFAULT_BATCHING;
    const consumers = Array.from({ length: lanes }, async () => {
      for (let body = await queue.take(); body !== undefined; body = await queue.take()) {
        const batch = [body, ...queue.takeWaiting(maxBatch - 1)].map(
          (text) => JSON.parse(text) as EventEnvelope<'ticket:created'>,
        );
        const client = await consumerDb.pool.connect();
        try {
          await client.query('begin');
          const inserted = await client.query<{ event_id: string }>(
            `insert into inbox (consumer, event_id) select $1, id from unnest($2::uuid[]) as id
             on conflict do nothing returning event_id`,
            [`${GROUP}:ticket:created`, batch.map((event) => event.id)],
          );
          const fresh = new Set(inserted.rows.map((row) => row.event_id));
          for (const event of batch) {
            if (!fresh.delete(event.id)) continue;
            await client.query(
              'insert into bench_ticket_replica (id, version, title, price) values ($1, $2, $3, $4)',
              [event.data.id, event.data.version, event.data.title, event.data.price],
            );
          }
          await client.query('commit');
        } finally {
          client.release();
        }
        for (const event of batch) recorder.end(event.id);
      }
    });

    await recorder.begin();
    try {
      await runWorkers(PRODUCERS, events, async (i) => {
        const event = envelopes[i]!;
        const ticket = event.data;
        const body = JSON.stringify(event);
        const client = await producerDb.pool.connect();
        try {
          await client.query('begin');
          await client.query(
            'insert into bench_tickets (id, version, title, price, user_id) values ($1, $2, $3, $4, $5)',
            [ticket.id, ticket.version, ticket.title, ticket.price, ticket.userId],
          );
          await client.query(
            'insert into outbox (event_id, type, entity_id, envelope) values ($1, $2, $3, $4::jsonb)',
            [event.id, event.type, ticket.id, body],
          );
          await client.query('commit');
        } finally {
          client.release();
        }
        recorder.start(event.id);
        queue.push(body);
      });
      recorder.produced();
      await recorder.finished(TIMEOUT_MS);
    } finally {
      queue.close();
      await Promise.all(consumers);
    }
    const result = recorder.result(name);
    return { ...result, note: await verify(consumerDb, events, false) };
  });
}

/**
 * Ceiling 2: the JetStream client alone. Latency runs from the call to `publish` (the message is
 * stored during that call; its PubAck can reach the publisher after the consumer already has it)
 * to the consumer's ack.
 */
async function bareJetStream(name: string, servers: string, events: number): Promise<RunResult> {
  const suffix = runId(12);
  const stream = `BENCH_BARE_${suffix.toUpperCase()}`;
  const subject = `bench_bare_${suffix}.ticket.created`;
  const envelopes = tickets(events).map((ticket) => makeEvent('ticket:created', ticket));
  const publisherConnection = await connect({ servers });
  let consumerConnection: NatsConnection | undefined;
  const jsm = await jetstreamManager(publisherConnection);
  try {
    await jsm.streams.add({
      name: stream,
      subjects: [`bench_bare_${suffix}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
    });
    await jsm.consumers.add(stream, {
      durable_name: 'bench',
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    consumerConnection = await connect({ servers });
    const consumer = await jetstream(consumerConnection).consumers.get(stream, 'bench');
    const recorder = new Recorder(events);
    const messages = await consumer.consume();
    const consuming = (async () => {
      for await (const msg of messages) {
        msg.ack();
        recorder.end(msg.headers?.get(PubHeaders.MsgIdHdr) ?? '');
        if (recorder.handled === events) break;
      }
    })();

    const js = jetstream(publisherConnection);
    await recorder.begin();
    await runWorkers(PRODUCERS, events, async (i) => {
      const event = envelopes[i]!;
      recorder.start(event.id);
      await js.publish(subject, JSON.stringify(event), { msgID: event.id });
    });
    recorder.produced();
    try {
      await recorder.finished(TIMEOUT_MS);
    } finally {
      messages.stop();
      await consuming;
    }
    await consumerConnection.flush(); // the acks
    return recorder.result(name);
  } finally {
    await jsm.streams.delete(stream).catch((error: unknown) => {
      console.warn(`\ncould not delete stream ${stream} (delete it by hand): ${String(error)}`);
    });
    await consumerConnection?.close();
    await publisherConnection.close();
  }
}

async function natsVersion(servers: string): Promise<string> {
  const nc = await connect({ servers });
  try {
    return `NATS ${nc.info?.version ?? '?'} at ${servers}`;
  } finally {
    await nc.close();
  }
}

interface Scenario {
  name: string;
  run: (events: number) => Promise<RunResult>;
  /** For a full path: the ceilings it is compared with (the lowest counts). */
  ceilings?: string[];
}

async function main(): Promise<void> {
  const started = performance.now();
  const server = await startPostgres();
  const results: RunResult[] = [];
  const ceilingsOf = new Map<RunResult, string[]>();
  try {
    console.log(
      `bench:bus — ${EVENTS} events per path, ${PRODUCERS} concurrent producers, listener concurrency ${LISTENER_CONCURRENCY}`,
    );
    console.log(`machine:  ${machine()}`);
    console.log('          (Postgres, NATS and this process all share these cores)');
    console.log(`load:     ${loadAverage(2, ' ')} (1, 5, 15 min) at the start`);
    console.log(`postgres: ${server.version}, ${server.origin}; ${server.settings}`);
    console.log(
      `nats:     ${NATS_URL ? await natsVersion(NATS_URL) : 'NATS_URL not set: JetStream paths skipped'}`,
    );
    console.log('');

    // Each full path is compared with ceilings measured just before it, so that a change in what
    // else the machine is doing shifts both sides alike: bare Postgres runs again for JetStream.
    const barePg = (name: string): Scenario => ({
      name,
      run: (n) => barePostgres(name, server, n),
    });
    const scenarios: Scenario[] = [
      barePg('bare Postgres (ceiling)'),
      {
        name: 'in-process: full path',
        run: (n) => fullPath('in-process: full path', server, inProcessTransports, n),
        ceilings: ['bare Postgres (ceiling)'],
      },
    ];
    if (NATS_URL) {
      scenarios.push(
        {
          name: 'bare JetStream (ceiling)',
          run: (n) => bareJetStream('bare JetStream (ceiling)', NATS_URL, n),
        },
        barePg('bare Postgres (again)'),
        {
          name: 'JetStream: full path',
          run: (n) => fullPath('JetStream: full path', server, () => jetStreamTransports(NATS_URL), n),
          ceilings: ['bare JetStream (ceiling)', 'bare Postgres (again)'],
        },
      );
    }
    // BENCH_ONLY=<part of a name> runs only matching paths (to profile one); ratios need both sides.
    const only = process.env.BENCH_ONLY;
    for (const scenario of scenarios.filter((s) => !only || s.name.includes(only))) {
      process.stdout.write(`${scenario.name}: warm-up (${WARMUP})… `);
      await scenario.run(WARMUP);
      process.stdout.write(`measuring (${EVENTS})… `);
      const result = await scenario.run(EVENTS);
      results.push(result);
      if (scenario.ceilings) ceilingsOf.set(result, scenario.ceilings);
      console.log(`${fmt(result.perSecond, 0)} events/s`);
    }
  } finally {
    await server.stop();
  }

  /** Each full path with the lowest of its ceilings (when they were measured). */
  const ratioRows: { result: RunResult; ceiling: RunResult }[] = [];
  for (const [result, names] of ceilingsOf) {
    const ceilings = names.map((name) => results.find((r) => r.name === name));
    if (ceilings.some((c) => !c)) continue;
    const ceiling = (ceilings as RunResult[]).reduce((low, c) => (c.perSecond < low.perSecond ? c : low));
    ratioRows.push({ result, ceiling });
  }
  const ratioOf = (r: RunResult) => {
    const row = ratioRows.find((x) => x.result === r);
    return row ? fmt(r.perSecond / row.ceiling.perSecond, 2) : '';
  };

  console.log('');
  console.log(
    table(
      ['path', 'events', 'produced (s)', 'handled (s)', 'events/s', 'p50 (ms)', 'p99 (ms)', 'ratio'],
      results.map((r) => [
        r.name,
        String(r.events),
        fmt(r.producedSeconds, 2),
        fmt(r.seconds, 2),
        fmt(r.perSecond, 0),
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        ratioOf(r),
      ]),
    ),
  );
  console.log('');
  console.log('ratio = full path events/s ÷ the lower applicable ceiling (aim ≥ 0.5):');
  for (const { result, ceiling } of ratioRows) {
    const ratio = result.perSecond / ceiling.perSecond;
    console.log(
      `  ${result.name.split(':')[0]}: ${fmt(result.perSecond, 0)} ÷ ${fmt(ceiling.perSecond, 0)} (${ceiling.name}) = ${fmt(ratio, 2)}  ${ratio >= 0.5 ? 'meets the aim' : 'BELOW the aim'}`,
    );
  }
  if (results.some((r) => r.cpu && Number.isFinite(r.cpu.machineBusy))) {
    const cores = availableParallelism();
    console.log('');
    console.log(
      'CPU from start to last event handled: this process, the Postgres backends of the bench databases, the NATS server;',
    );
    console.log(`and the whole machine (all ${cores} cores, whoever used them) against its capacity.`);
    console.log(
      table(
        ['path', 'bench (s)', 'postgres (s)', 'nats (s)', 'ms/event', 'machine busy', 'of capacity'],
        results.map((r) => {
          const cpu = r.cpu!;
          const ours = cpu.self + cpu.postgres + (Number.isFinite(cpu.nats) ? cpu.nats : 0);
          return [
            r.name,
            fmt(cpu.self, 1),
            fmt(cpu.postgres, 1),
            fmt(cpu.nats, 1),
            fmt((1000 * ours) / r.events, 2),
            `${fmt(cpu.machineBusy, 1)} s`,
            `${fmt((100 * cpu.machineBusy) / (cores * r.seconds), 0)}%`,
          ];
        }),
      ),
    );
  }
  const notes = results.filter((r) => r.note);
  for (const r of notes) console.log(`  ${r.name}: ${r.note}`);
  console.log(
    `\ntotal ${fmt((performance.now() - started) / 1000, 0)} s (incl. warm-ups and setup); load at the end: ${loadAverage(2, ' ')}`,
  );
  if (notes.length > 0) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
