/**
 * The consistency checker: compares every replica with its source of truth and checks the
 * invariants that span services. Prints each difference; exits non-zero when there is one.
 *
 * - tickets (source) vs the orders service's replica of tickets: same ids, titles, prices, owners,
 *   listings, sales counts and versions;
 * - orders (source) vs the payments service's replica of orders: same ids, statuses, versions, prices;
 * - each ticket's `orderId` vs the active order holding it in orders, both ways;
 * - ownership: every ticket's owner is the buyer of its last completed order (or, never sold, the
 *   seller its orders name), it was sold as many times as it has completed orders, and the tickets
 *   service's record of each change of hands is that order's sale (seller, buyer, price);
 * - credentials: a ticket has at most one (a seed and its hash, both or neither), and no two
 *   tickets share a code;
 * - the reservation saga: no order left `created` (the tickets service confirms or rejects each);
 *   every order awaiting payment or complete is held by its ticket at the ticket's price;
 * - money: no order with two successful payments; every complete order paid exactly once; no
 *   successful payment for an order that is not complete; every successful payment's amount is its
 *   order's price;
 * - nothing left behind: no unsent outbox rows, no dead letters (reported separately).
 *
 * Run it once the system is quiet (no requests in flight, relays drained).
 */
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { ACTIVE_ORDER_STATUSES, OrderStatus, PaymentStatus, sqlLiterals } from '@ticketing/common';
import type { ServiceName } from './cluster.ts';

export interface CheckTargets {
  tickets: string;
  orders: string;
  payments: string;
  /** Other service databases whose outboxes and dead letters are checked too. */
  others?: string[];
}

/** What to check, given each service's database URL. */
export const checkTargetsOf = (urls: Record<ServiceName, string>): CheckTargets => ({
  tickets: urls.tickets,
  orders: urls.orders,
  payments: urls.payments,
  others: [urls.auth, urls.expiration],
});

export interface CheckReport {
  differences: string[];
  deadLetters: { database: string; consumer: string; type: string; reason: string }[];
  counts: Record<string, number>;
}

async function rows<T extends pg.QueryResultRow>(client: pg.Client, sql: string): Promise<T[]> {
  return (await client.query<T>(sql)).rows;
}

export async function checkConsistency(targets: CheckTargets): Promise<CheckReport> {
  const connect = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  };
  const [tickets, orders, payments] = await Promise.all([
    connect(targets.tickets),
    connect(targets.orders),
    connect(targets.payments),
  ]);
  const others = await Promise.all((targets.others ?? []).map(connect));
  const differences: string[] = [];
  try {
    type Ticket = {
      id: string;
      title: string;
      price_cents: number;
      user_id: string;
      listed: boolean;
      times_sold: number;
      version: number;
      order_id: string | null;
    };
    const source = await rows<Ticket & { seeded: boolean; hashed: boolean }>(
      tickets,
      `select id, title, price_cents, user_id, listed, times_sold, version, order_id,
              credential_seed is not null as seeded, credential_hash is not null as hashed
         from tickets`,
    );
    const replica = new Map(
      (
        await rows<Ticket>(
          orders,
          'select id, title, price_cents, seller_id as user_id, listed, times_sold, version from tickets',
        )
      ).map((t) => [t.id, t]),
    );
    const describe = (t: Ticket) =>
      `v${t.version} ${t.price_cents}c "${t.title}" owned by ${t.user_id}${t.listed ? ', listed' : ''}, sold ${t.times_sold}×`;
    for (const t of source) {
      const copy = replica.get(t.id);
      if (!copy) differences.push(`ticket ${t.id}: missing from the orders service's replica`);
      else if (
        copy.version !== t.version ||
        copy.price_cents !== t.price_cents ||
        copy.title !== t.title ||
        copy.user_id !== t.user_id ||
        copy.listed !== t.listed ||
        copy.times_sold !== t.times_sold
      ) {
        differences.push(`ticket ${t.id}: tickets has ${describe(t)}, orders has ${describe(copy)}`);
      }
      replica.delete(t.id);
      if (t.seeded !== t.hashed)
        differences.push(`ticket ${t.id}: a credential seed without its hash, or the reverse`);
    }
    for (const { hash, n } of await rows<{ hash: string; n: number }>(
      tickets,
      `select encode(credential_hash, 'hex') as hash, count(*)::int as n from tickets
        where credential_hash is not null group by credential_hash having count(*) > 1`,
    )) {
      differences.push(`credential ${hash.slice(0, 12)}…: valid for ${n} tickets`);
    }
    for (const id of replica.keys())
      differences.push(`ticket ${id}: in the orders replica but not in tickets`);

    type Order = {
      id: string;
      /** One of the contract's: the orders table's check constraint allows no other. */
      status: OrderStatus;
      version: number;
      ticket_id: string;
      price_cents: number;
      user_id: string;
      seller_id: string;
      ticket_times_sold: number;
    };
    const orderRows = await rows<Order>(
      orders,
      'select id, status, version, ticket_id, price_cents, user_id, seller_id, ticket_times_sold from orders',
    );
    const paymentsReplica = new Map(
      (await rows<Order>(payments, 'select id, status, version, price_cents from orders')).map((o) => [
        o.id,
        o,
      ]),
    );
    for (const o of orderRows) {
      const copy = paymentsReplica.get(o.id);
      if (!copy) differences.push(`order ${o.id}: missing from the payments service's replica`);
      else if (copy.status !== o.status || copy.version !== o.version || copy.price_cents !== o.price_cents) {
        differences.push(
          `order ${o.id}: orders has ${o.status} v${o.version} ${o.price_cents}c, payments has ${copy.status} v${copy.version} ${copy.price_cents}c`,
        );
      }
      paymentsReplica.delete(o.id);
    }
    for (const id of paymentsReplica.keys())
      differences.push(`order ${id}: in the payments replica but not in orders`);

    // The order holding each ticket: active, placed with its current owner (a completed order of
    // an earlier owner holds nothing any more: the ticket changed hands).
    const active = new Map(
      orderRows
        .filter((o) => (ACTIVE_ORDER_STATUSES as readonly OrderStatus[]).includes(o.status))
        .map((o) => [`${o.ticket_id}/${o.ticket_times_sold}`, o]),
    );
    for (const t of source) {
      const holder = active.get(`${t.id}/${t.times_sold}`);
      if (t.order_id && !holder)
        differences.push(`ticket ${t.id}: locked by order ${t.order_id}, which is not active`);
      else if (holder && t.order_id !== holder.id) {
        differences.push(
          `ticket ${t.id}: held by active order ${holder.id} but its orderId is ${t.order_id ?? 'empty'}`,
        );
      } else if (holder && holder.price_cents !== t.price_cents) {
        differences.push(
          `order ${holder.id}: ${holder.status} at ${holder.price_cents}c, but its ticket ${t.id} is held at ${t.price_cents}c`,
        );
      }
    }
    type Transfer = {
      order_id: string;
      ticket_id: string;
      from_user_id: string;
      to_user_id: string;
      price_cents: number;
    };
    const transfers = new Map(
      (
        await rows<Transfer>(
          tickets,
          'select order_id, ticket_id, from_user_id, to_user_id, price_cents from ticket_transfers',
        )
      ).map((x) => [x.order_id, x]),
    );
    const sales = new Map<string, Order[]>();
    for (const o of orderRows) {
      if (o.status !== OrderStatus.Complete) continue;
      sales.set(o.ticket_id, [...(sales.get(o.ticket_id) ?? []), o]);
      const transfer = transfers.get(o.id);
      if (!transfer)
        differences.push(`order ${o.id}: complete, but the tickets service has not handed its ticket over`);
      else if (
        transfer.ticket_id !== o.ticket_id ||
        transfer.from_user_id !== o.seller_id ||
        transfer.to_user_id !== o.user_id ||
        transfer.price_cents !== o.price_cents
      ) {
        differences.push(
          `order ${o.id}: sold ${o.ticket_id} by ${o.seller_id} to ${o.user_id} at ${o.price_cents}c, but tickets handed ${transfer.ticket_id} from ${transfer.from_user_id} to ${transfer.to_user_id} at ${transfer.price_cents}c`,
        );
      }
      transfers.delete(o.id);
    }
    for (const x of transfers.values())
      differences.push(`ticket ${x.ticket_id}: handed over for order ${x.order_id}, which is not complete`);
    const firstSellers = new Map(
      orderRows.filter((o) => o.ticket_times_sold === 0).map((o) => [o.ticket_id, o.seller_id]),
    );
    for (const t of source) {
      const sold = (sales.get(t.id) ?? []).sort((a, b) => a.ticket_times_sold - b.ticket_times_sold);
      if (sold.length !== t.times_sold) {
        differences.push(
          `ticket ${t.id}: sold ${t.times_sold}× by the tickets service, ${sold.length} complete orders`,
        );
      }
      const owner = sold.at(-1)?.user_id ?? firstSellers.get(t.id) ?? t.user_id;
      if (t.user_id !== owner)
        differences.push(`ticket ${t.id}: owned by ${t.user_id}, but its sales make ${owner} the owner`);
      sold.forEach((o, i) => {
        if (o.ticket_times_sold !== i)
          differences.push(
            `order ${o.id}: the ticket's sale number ${i + 1}, placed as number ${o.ticket_times_sold + 1}`,
          );
        const previous = i === 0 ? firstSellers.get(t.id) : sold[i - 1]!.user_id;
        if (previous !== undefined && o.seller_id !== previous) {
          differences.push(`order ${o.id}: sold by ${o.seller_id}, but the ticket was ${previous}'s`);
        }
      });
    }

    for (const o of orderRows) {
      if (o.status === OrderStatus.Created)
        differences.push(
          `order ${o.id}: still created (the tickets service has not confirmed or rejected it)`,
        );
    }

    type Paid = { order_id: string; n: number; amounts: number[] };
    const paid = new Map(
      (
        await rows<Paid>(
          payments,
          `select order_id, count(*)::int as n, array_agg(amount_cents) as amounts
             from payments where status = ${sqlLiterals([PaymentStatus.Succeeded])} group by order_id`,
        )
      ).map((p) => [p.order_id, p]),
    );
    for (const o of orderRows) {
      const n = paid.get(o.id)?.n ?? 0;
      for (const amount of paid.get(o.id)?.amounts ?? []) {
        if (amount !== o.price_cents)
          differences.push(`order ${o.id}: priced ${o.price_cents}c but charged ${amount}c`);
      }
      if (n > 1) differences.push(`order ${o.id}: charged ${n} times`);
      if (o.status === OrderStatus.Complete && n !== 1)
        differences.push(`order ${o.id}: complete but ${n} successful payments`);
      if (o.status !== OrderStatus.Complete && n > 0)
        differences.push(`order ${o.id}: ${o.status} but has a successful payment`);
    }

    const deadLetters: CheckReport['deadLetters'] = [];
    const all = [
      ['tickets', tickets],
      ['orders', orders],
      ['payments', payments],
      ...others.map((c, i) => [`other-${i + 1}`, c] as const),
    ] as const;
    for (const [name, client] of all) {
      const [unsent] = await rows<{ n: number }>(
        client,
        'select count(*)::int as n from outbox where sent_at is null',
      );
      const n = unsent?.n ?? 0;
      if (n > 0) differences.push(`${name}: ${n} outbox rows not yet sent`);
      for (const d of await rows<{ consumer: string; type: string; reason: string }>(
        client,
        'select consumer, type, reason from dead_letters order by id',
      )) {
        deadLetters.push({ database: name, ...d });
      }
    }
    return {
      differences,
      deadLetters,
      counts: {
        tickets: source.length,
        orders: orderRows.length,
        complete: orderRows.filter((o) => o.status === OrderStatus.Complete).length,
        resold: source.filter((t) => t.times_sold > 1).length,
        cancelled: orderRows.filter((o) => o.status === OrderStatus.Cancelled).length,
        payments: [...paid.values()].reduce((sum, p) => sum + p.n, 0),
      },
    };
  } finally {
    await Promise.all([tickets, orders, payments, ...others].map((c) => c.end()));
  }
}

/** Polls until the checker finds no difference (the system converged) or the time is up. */
export async function waitForConsistency(targets: CheckTargets, timeoutMs = 30_000): Promise<CheckReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await checkConsistency(targets);
    if (report.differences.length === 0 || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// CLI: DATABASE_URL (server) + DATABASE_PREFIX, as the cluster and the marketplace name databases.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const prefix = process.env.DATABASE_PREFIX ?? 'ticketing_cluster';
  const url = (service: string) => {
    const u = new URL(server);
    u.pathname = `/${prefix}_${service}`;
    return u.toString();
  };
  const report = await checkConsistency(
    checkTargetsOf({
      auth: url('auth'),
      tickets: url('tickets'),
      orders: url('orders'),
      expiration: url('expiration'),
      payments: url('payments'),
    }),
  );
  console.log(`checked ${JSON.stringify(report.counts)}`);
  for (const d of report.deadLetters)
    console.log(`dead letter in ${d.database} (${d.consumer}, ${d.type}): ${d.reason}`);
  for (const d of report.differences) console.log(`DIFFERENCE ${d}`);
  console.log(report.differences.length === 0 ? 'consistent' : `${report.differences.length} differences`);
  process.exitCode = report.differences.length === 0 ? 0 : 1;
}
