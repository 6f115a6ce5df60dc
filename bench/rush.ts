/**
 * `npm run bench:rush`: the on-sale rush. BENCH_RUSH_TICKETS (1,000) tickets created through the
 * API by 4 sellers; once the orders service's replica holds all of them (polled in its database),
 * BENCH_RUSH_BUYERS (5) signed-in buyers per ticket (distinct minted sessions) all send
 * `POST /api/orders` through the cluster's entry (BENCH_RUSH_DIRECT=1: straight to the orders replicas)
 * from BENCH_RUSH_CONNECTIONS (200) concurrent connections, the buyers of each ticket at the same
 * time (see ticketOf). Exactly one order per ticket may be
 * created (201); every other buyer is refused (400); nothing else may happen. Prints orders/s and
 * p50/p99. Both it and the ceiling are measured after a warm-up rush of the same kind on
 * BENCH_RUSH_WARMUP_TICKETS (1,000) tickets of their own: a replica in production has served
 * requests before the rush, and V8 compiles the hot paths during the first thousands of them.
 *
 * Ceiling, in the same run: the same database writes with `pg` from as many concurrent callers on
 * a pool of BENCH_RUSH_CEILING_POOL (20) connections, against a scratch copy of the orders schema
 * in its own database: read the ticket, then the statement the service uses (prepareWriteAndPublish),
 * inserting the order row and, only if it went in, its outbox row, under the same unique partial
 * index (no NOTIFY: the service's relay is woken after the commit, in its own process); no row
 * inserted counts as the 400. Both statements are named, prepared once per connection, as the
 * service's are (since session 6; unnamed before). (Until 2026-12-01 afternoon, like the service
 * then: a transaction, a unique violation counting as the 400.) Ratio = service ÷ ceiling (aim ≥ 0.5).
 *
 * Then the same buyers once more, every ticket held by then: each is refused at the read, with no
 * write and no cascade, and the CPU per request of the orders replicas and the entry is the
 * request path's alone.
 *
 * Also prints the CPU seconds each process used from the first request until the cascade the rush
 * set off is over (every order's ticket held and the order confirmed to the payments service, every
 * outbox sent), per order created, beside the
 * ceiling's; and records the RSS of every replica process at idle (ready, before any load) and at
 * the end of the rush.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ACTIVE_ORDER_STATUSES, OrderStatus, sqlLiterals } from '@ticketing/common';
import { SERVICES, type ServiceName } from '../apps/cluster/src/cluster.ts';
import { Client, createTickets, mintCookie, waitForReplica } from './lib/client.ts';
import {
  cpuSecondsOf,
  cpuUsed,
  fmt,
  intFromEnv,
  percentile,
  rssMiB,
  runWorkers,
  sampleCpu,
  sleep,
  table,
  type CpuSample,
} from './lib/measure.ts';
import {
  createDatabase,
  DATABASE_URL,
  NATS_URL,
  natsPort,
  startBenchCluster,
  type BenchCluster,
} from './lib/systems.ts';

const TICKETS = intFromEnv('BENCH_RUSH_TICKETS', 1_000);
const WARMUP_TICKETS = intFromEnv('BENCH_RUSH_WARMUP_TICKETS', 1_000);
const BUYERS = intFromEnv('BENCH_RUSH_BUYERS', 5);
const CONNECTIONS = intFromEnv('BENCH_RUSH_CONNECTIONS', 200);
const REPLICAS = intFromEnv('BENCH_RUSH_REPLICAS', 1);
const CEILING_POOL = intFromEnv('BENCH_RUSH_CEILING_POOL', 20);
const DIRECT = process.env.BENCH_RUSH_DIRECT === '1';
const SPREAD = process.env.BENCH_RUSH_SPREAD === '1';
const NATS_PORT = natsPort(NATS_URL);

export interface RushRun {
  name: string;
  requests: number;
  created: number;
  refused: number;
  other: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export interface MemoryRow {
  replica: string;
  idle: number;
  afterRush: number;
}

/** CPU seconds used during a rush, by process (replicas, entry, supervisor) and in all. */
export interface RushCpu {
  processes: { name: string; seconds: number }[];
  /** This process (the load generator), the Postgres backends of bench databases, NATS, the machine. */
  totals: CpuSample;
}

export interface RushResult {
  service: RushRun;
  ceiling: RushRun;
  serviceCpu: RushCpu;
  ceilingCpu: RushCpu;
  ratio: number;
  activeOrdersInDb: number;
  memory: MemoryRow[];
}

/**
 * Which ticket buyer i wants. By default the buyers of a ticket come one after another, so that
 * with hundreds of requests in flight all five race for it at once (the original course app's
 * concurrency story: most get past the check before any order exists, and the unique index decides).
 * BENCH_RUSH_SPREAD=1: buyer i wants ticket i % tickets, so each ticket's buyers arrive a fifth of
 * the rush apart, the first buyer of every ticket first (the order of the figures before
 * 2026-12-01 afternoon).
 */
const ticketOf = (i: number, tickets: number, buyers: number) =>
  SPREAD ? i % tickets : Math.floor(i / buyers);

async function runPool(
  count: number,
  concurrency: number,
  send: (i: number) => Promise<number>,
): Promise<{ statuses: number[]; latencies: number[]; seconds: number }> {
  const statuses = new Array<number>(count);
  const latencies = new Array<number>(count);
  const started = performance.now();
  await runWorkers(concurrency, count, async (i) => {
    const t0 = performance.now();
    try {
      statuses[i] = await send(i);
    } catch {
      statuses[i] = 0;
    }
    latencies[i] = performance.now() - t0;
  });
  return {
    statuses,
    latencies: latencies.sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
  };
}

function summarize(name: string, run: { statuses: number[]; latencies: number[]; seconds: number }): RushRun {
  const created = run.statuses.filter((s) => s === 201).length;
  const refused = run.statuses.filter((s) => s === 400).length;
  return {
    name,
    requests: run.statuses.length,
    created,
    refused,
    other: run.statuses.length - created - refused,
    seconds: run.seconds,
    perSecond: run.statuses.length / run.seconds,
    p50: percentile(run.latencies, 0.5),
    p99: percentile(run.latencies, 0.99),
  };
}

/** The orders service's migrations, statement by statement: the scratch copy of its schema. */
function ordersSchema(): string {
  const dir = new URL('../services/orders/drizzle/', import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(new URL(f, dir), 'utf8').split('--> statement-breakpoint').join('\n'))
    .join(';\n');
}

async function ceiling(tickets: number, buyers: number): Promise<{ run: RushRun; cpu: RushCpu }> {
  const db = await createDatabase(DATABASE_URL, 'rush_ceiling', ordersSchema(), CEILING_POOL);
  try {
    const sellerId = randomUUID();
    const ids = Array.from({ length: tickets + WARMUP_TICKETS }, () => randomUUID());
    await db.pool.query(
      `insert into tickets (id, title, price_cents, seller_id, version)
       select id, 'Bench ticket', 1000, $2, 0 from unnest($1::uuid[]) as id`,
      [ids, sellerId],
    );
    const buyerIds = Array.from({ length: (tickets + WARMUP_TICKETS) * buyers }, () => randomUUID());
    // Buyer i of the rush on the `count` tickets from `first` on.
    const send = async (i: number, first: number, count: number): Promise<number> => {
      const ticketId = ids[first + ticketOf(i, count, buyers)]!;
      const buyerId = buyerIds[first * buyers + i];
      // Named statements, prepared once per connection, as the service's read and write are.
      const { rows } = await db.pool.query<{
        id: string;
        price_cents: number;
        seller_id: string;
        times_sold: number;
      }>({
        name: 'ceiling_read_ticket',
        text: 'select id, price_cents, seller_id, times_sold from tickets where id = $1',
        values: [ticketId],
      });
      const ticket = rows[0]!;
      const orderId = randomUUID();
      const expiresAt = new Date(Date.now() + 900_000);
      const eventId = randomUUID();
      const envelope = {
        id: eventId,
        type: 'order:created',
        occurredAt: new Date().toISOString(),
        data: {
          id: orderId,
          version: 0,
          status: OrderStatus.Created,
          userId: buyerId,
          expiresAt,
          ticket: { id: ticket.id, price: ticket.price_cents, sellerId: ticket.seller_id },
        },
      };
      // The service's statement (prepareWriteAndPublish): the order, and its outbox row only if the order
      // went in, committed on its own; the one-active-order index refuses the losers.
      const inserted = await db.pool.query({
        name: 'ceiling_insert_order',
        text: `with written as (
           insert into orders (id, user_id, ticket_id, status, price_cents, seller_id, ticket_times_sold,
                               expires_at, version)
           values ($1, $2, $3, ${sqlLiterals([OrderStatus.Created])}, $4, $8, $9, $5, 0)
           on conflict (ticket_id, ticket_times_sold) where status in (${sqlLiterals(ACTIVE_ORDER_STATUSES)})
           do nothing
           returning created_at
         ),
         queued as (
           insert into outbox (event_id, type, entity_id, envelope)
           select $6, 'order:created', $1, $7::jsonb where exists (select 1 from written)
         )
         select * from written`,
        values: [
          orderId,
          buyerId,
          ticket.id,
          ticket.price_cents,
          expiresAt,
          eventId,
          JSON.stringify(envelope),
          ticket.seller_id,
          ticket.times_sold,
        ],
      });
      return inserted.rowCount === 1 ? 201 : 400;
    };
    // Warmed up like the service: a rush on tickets of its own first.
    await runPool(WARMUP_TICKETS * buyers, CONNECTIONS, (i) => send(i, tickets, WARMUP_TICKETS));
    const before = await sampleCpu(NATS_PORT);
    const run = await runPool(tickets * buyers, CONNECTIONS, (i) => send(i, 0, tickets));
    const totals = cpuUsed(before, await sampleCpu(NATS_PORT));
    return {
      run: summarize(`pg ceiling (${CONNECTIONS} callers, pool ${CEILING_POOL})`, run),
      cpu: { processes: [], totals },
    };
  } finally {
    await db.drop();
  }
}

export async function runRush(): Promise<RushResult> {
  console.log(
    `\n== 2. On-sale rush: ${TICKETS} tickets × ${BUYERS} buyers (${SPREAD ? 'spread over the rush' : "each ticket's at once"}), ${CONNECTIONS} connections, ${REPLICAS} replica(s) per service ==`,
  );
  const bench = await startBenchCluster(REPLICAS);
  let service: RushRun;
  let serviceCpu: RushCpu;
  let activeOrdersInDb: number;
  const memory: MemoryRow[] = [];
  const all = SERVICES.flatMap((s) => bench.replicas[s]);
  try {
    const cluster = bench;
    const { jwtKey } = bench;
    const idle = new Map(all.map((r) => [r.name, rssMiB(r.pid)]));
    const client = new Client(cluster.url, CONNECTIONS);
    // The measured rush's tickets, then the warm-up's.
    const created = await createTickets(client, jwtKey, TICKETS + WARMUP_TICKETS, 4, 32);
    const waited = await waitForReplica(
      bench.pool('orders'),
      created.map((t) => t.id),
    );
    console.log(
      `  ${TICKETS + WARMUP_TICKETS} tickets created; orders replica complete ${fmt(waited, 0)} ms after the last create`,
    );
    const cookies = await Promise.all(
      Array.from({ length: (TICKETS + WARMUP_TICKETS) * BUYERS }, () => mintCookie(jwtKey)),
    );
    // BENCH_RUSH_DIRECT=1: straight to the orders replicas (round robin), without the entry's hop.
    const buyers = DIRECT
      ? bench.replicas.orders.map(
          (r) => new Client(r.url, Math.ceil(CONNECTIONS / bench.replicas.orders.length)),
        )
      : [client];
    // The Node gateway runs in the supervisor's process; HAProxy in a process of its own.
    // A process that starts meanwhile (HAProxy started again) counts from zero.
    const measured = [
      ...all.map((r) => ({ name: r.name, pids: () => [r.pid] })),
      { name: `entry (${bench.entry.kind})`, pids: () => bench.entry.pids() },
      ...(bench.entry.kind === 'node' ? [] : [{ name: 'supervisor', pids: () => [bench.hostPid] }]),
    ];
    const cpuOf = (pids: (number | undefined)[]) => new Map(pids.map((pid) => [pid, cpuSecondsOf(pid)]));
    // A rush on the tickets from `first` on (`count` of them).
    const rush = (first: number, count: number) =>
      runPool(count * BUYERS, CONNECTIONS, async (i) => {
        const res = await buyers[i % buyers.length]!.request(
          'POST',
          '/api/orders',
          cookies[first * BUYERS + i]!,
          { ticketId: created[first + ticketOf(i, count, BUYERS)]!.id },
        );
        return res.status;
      });
    // Measured on replicas that have served a rush already, as a replica has in production: the
    // first one runs while V8 still compiles the code it takes (a fifth to a third slower).
    if (WARMUP_TICKETS > 0) {
      const warmup = summarize('warm-up', await rush(TICKETS, WARMUP_TICKETS));
      await waitForQuiet(bench, WARMUP_TICKETS);
      console.log(
        `  warm-up rush on ${WARMUP_TICKETS} other tickets: ${fmt(warmup.perSecond, 0)} req/s, ` +
          `${warmup.created} × 201, ${warmup.refused} × 400, ${warmup.other} other`,
      );
    }
    const cpuBefore = measured.map((p) => cpuOf(p.pids()));
    const totalsBefore = await sampleCpu(NATS_PORT);
    const run = await rush(0, TICKETS);
    // Until the cascade the rush set off is over too: its events are part of what an order costs.
    await waitForQuiet(bench, WARMUP_TICKETS + TICKETS);
    const cpuSince = (before: Map<number | undefined, number>[]) =>
      measured.map((p, i) => ({
        name: p.name,
        seconds: [...cpuOf(p.pids())].reduce((sum, [pid, now]) => sum + now - (before[i]!.get(pid) ?? 0), 0),
      }));
    serviceCpu = {
      processes: cpuSince(cpuBefore),
      totals: cpuUsed(totalsBefore, await sampleCpu(NATS_PORT)),
    };
    for (const r of all)
      memory.push({ replica: r.name, idle: idle.get(r.name) ?? Number.NaN, afterRush: rssMiB(r.pid) });
    // The request path alone: the same buyers again, every ticket held by now, so each is refused
    // at the read: no write, no cascade.
    const refusalsBefore = measured.map((p) => cpuOf(p.pids()));
    const refusals = summarize('refused at the read', await rush(0, TICKETS));
    const perRequest = cpuSince(refusalsBefore)
      .filter((p) => p.name.startsWith('orders') || p.name.startsWith('entry'))
      .map((p) => `${p.name} ${fmt((p.seconds * 1000) / refusals.requests, 2)} ms`);
    const allRefused = refusals.refused === refusals.requests;
    console.log(
      `  the request path alone, the same ${refusals.requests} buyers again (every ticket held): ` +
        `${fmt(refusals.perSecond, 0)} req/s, outcome ${allRefused ? 'exact' : 'WRONG'}: ` +
        `${refusals.created} × 201, ${refusals.refused} × 400, ${refusals.other} other; ` +
        `CPU per request: ${perRequest.join(', ')}`,
    );
    for (const buyer of new Set([client, ...buyers])) buyer.close();
    service = summarize(
      `${DIRECT ? 'orders replicas' : `cluster entry (${bench.entry.kind})`} (${REPLICAS} replica(s))`,
      run,
    );
    const { rows } = await bench.pool('orders').query<{ n: number }>(
      `select count(*)::int as n from orders where status in (${sqlLiterals(ACTIVE_ORDER_STATUSES)})
           and ticket_id = any($1::uuid[])`,
      [created.slice(0, TICKETS).map((t) => t.id)],
    );
    activeOrdersInDb = rows[0]!.n;
  } finally {
    await bench.close();
  }
  const { run: ceilingRun, cpu: ceilingCpu } = await ceiling(TICKETS, BUYERS);
  const result: RushResult = {
    service,
    ceiling: ceilingRun,
    serviceCpu,
    ceilingCpu,
    ratio: service.perSecond / ceilingRun.perSecond,
    activeOrdersInDb,
    memory,
  };
  console.log('');
  console.log(
    table(
      ['path', 'requests', '201', '400', 'other', 'seconds', 'req/s', 'orders/s', 'p50 ms', 'p99 ms'],
      [service, ceilingRun].map((r) => [
        r.name,
        String(r.requests),
        String(r.created),
        String(r.refused),
        String(r.other),
        fmt(r.seconds, 2),
        fmt(r.perSecond, 0),
        fmt(r.created / r.seconds, 0),
        fmt(r.p50, 1),
        fmt(r.p99, 1),
      ]),
    ),
  );
  const exact =
    service.created === TICKETS && service.refused === TICKETS * (BUYERS - 1) && service.other === 0;
  console.log(
    `  outcome ${exact ? 'exact' : 'WRONG'}: ${service.created} × 201, ${service.refused} × 400, ${service.other} other; ` +
      `${activeOrdersInDb} active orders for its tickets in the orders database`,
  );
  console.log(`  ratio = service req/s ÷ ceiling req/s = ${fmt(result.ratio, 2)} (aim ≥ 0.5)`);
  printCpu(result);
  console.log('\n== 5. Memory (VmRSS, MiB) of each replica process ==');
  console.log(
    table(
      ['replica', 'idle', 'end of rush'],
      memory.map((m) => [m.replica, fmt(m.idle, 1), fmt(m.afterRush, 1)]),
    ),
  );
  return result;
}

/**
 * Waits until every order's cascade is done: the tickets service holds them all, the payments
 * service knows each is payable (the saga's last step), and nothing is unsent.
 */
async function waitForQuiet(bench: BenchCluster, orders: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  const count = async (service: ServiceName, sql: string) =>
    (await bench.pool(service).query<{ n: number }>(sql)).rows[0]!.n;
  for (;;) {
    const held = await count('tickets', 'select count(*)::int as n from tickets where order_id is not null');
    const payable = await count(
      'payments',
      `select count(*)::int as n from orders where status = ${sqlLiterals([OrderStatus.AwaitingPayment])}`,
    );
    let unsent = 0;
    for (const service of SERVICES) {
      unsent += await count(service, 'select count(*)::int as n from outbox where sent_at is null');
    }
    if (held >= orders && payable >= orders && unsent === 0) return;
    if (Date.now() > deadline) {
      console.log(
        `  the cascade was not over after 60 s (${held} tickets held, ${payable} orders payable, ${unsent} events unsent)`,
      );
      return;
    }
    await sleep(20);
  }
}

function printCpu(result: RushResult): void {
  const { serviceCpu: cpu, ceilingCpu } = result;
  const busy = cpu.processes.reduce((sum, p) => sum + (Number.isFinite(p.seconds) ? p.seconds : 0), 0);
  const all = busy + cpu.totals.postgres + (Number.isFinite(cpu.totals.nats) ? cpu.totals.nats : 0);
  console.log(
    '\n  CPU seconds from the first request until the cascade it set off was over (every order held by its\n' +
      '  ticket and payable, every outbox sent), by process; then per order created:',
  );
  console.log(
    table(
      ['process', 'CPU s', 'ms per order'],
      [
        ...cpu.processes.map((p) => [
          p.name,
          fmt(p.seconds, 2),
          fmt((p.seconds * 1000) / result.service.created, 1),
        ]),
        [
          'postgres (bench backends)',
          fmt(cpu.totals.postgres, 2),
          fmt((cpu.totals.postgres * 1000) / result.service.created, 1),
        ],
        ['nats-server', fmt(cpu.totals.nats, 2), fmt((cpu.totals.nats * 1000) / result.service.created, 1)],
        [
          'load generator',
          fmt(cpu.totals.self, 2),
          fmt((cpu.totals.self * 1000) / result.service.created, 1),
        ],
        [
          'system under test (all but the load generator)',
          fmt(all, 2),
          fmt((all * 1000) / result.service.created, 1),
        ],
        ['machine busy (all cores)', fmt(cpu.totals.machineBusy, 2), ''],
      ],
    ),
  );
  const ceilingAll = ceilingCpu.totals.postgres + ceilingCpu.totals.self;
  console.log(
    `  the ceiling: ${fmt(ceilingAll, 2)} CPU s (postgres ${fmt(ceilingCpu.totals.postgres, 2)}, ` +
      `its process ${fmt(ceilingCpu.totals.self, 2)}), ${fmt((ceilingAll * 1000) / result.ceiling.created, 1)} ms per order`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runRush();
}
