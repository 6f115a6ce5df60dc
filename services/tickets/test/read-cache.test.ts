/**
 * Reads answered from the replicas' caches stay right: the replica that made a change never
 * answers what was there before it, and another replica shows it within milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildHttpServer,
  ConfigError,
  InProcessBus,
  OutboxRelay,
  openDatabase,
  registerService,
  type HttpApp,
  type ServiceDatabase,
} from '@ticketing/common';
import { createServiceHarness, silentLogger, waitFor, type ServiceHarness } from '@ticketing/common/testing';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { ticketsService, ticketsSettingsFromEnv } from '../src/service.ts';
import { aTicket, anOrderCreated } from './fixtures.ts';

/** A broker that takes every event: delivery is not under test here. */
class AcceptingBus extends InProcessBus {
  override publish(): Promise<void> {
    return Promise.resolve();
  }
}

/** A second replica of the service: its own server, pool and caches on the same database. */
async function anotherReplica(url: string, cacheTtlMs: number) {
  const database = openDatabase(url, { max: 4, logger: silentLogger });
  const app = await buildHttpServer({
    logger: silentLogger,
    jwtKey: 'another-replica-key-that-is-long-enough-0123',
    secureCookies: false,
    title: 'tickets',
    readiness: {},
  });
  await registerService(app, ticketsService({ cacheTtlMs }), { database, logger: silentLogger });
  await app.ready();
  return { app, database };
}

/** How many times `database`'s feed has reported each id, from now on. */
function changesHeardBy(database: ServiceDatabase): Map<string, number> {
  const heard = new Map<string, number>();
  database.changes.subscribe((changes) => {
    if (changes !== 'all') for (const id of changes) heard.set(id, (heard.get(id) ?? 0) + 1);
  });
  return heard;
}

type Ticket = { id: string; version: number; price: number; orderId?: string };
const read = async (app: HttpApp, id: string) =>
  (await app.inject({ url: `/api/tickets/${id}` })).json<Ticket>();
const firstPage = async (app: HttpApp) =>
  (await app.inject({ url: '/api/tickets?limit=5' })).json<Ticket[]>();

describe('tickets read caches', () => {
  let t: ServiceHarness; // replica A (entries live a minute: only changes drop them)
  let b: { app: HttpApp; database: ServiceDatabase }; // replica B (entries live 300 ms)
  let relay: OutboxRelay;

  beforeAll(async () => {
    t = await createServiceHarness(ticketsService({ cacheTtlMs: 60_000 }));
    b = await anotherReplica(t.database.url, 300);
    relay = new OutboxRelay({ database: t.database, transport: new AcceptingBus(), logger: silentLogger });
    relay.start();
    await waitFor(() => t.database.changes.live && b.database.changes.live);
  });
  afterAll(async () => {
    await relay.stop();
    await b.app.close();
    await b.database.close();
    await t.close();
  });

  it('answers a read from the cache, not the database', async () => {
    const heardOnA = changesHeardBy(t.database);
    const { ticket } = await aTicket(t, { price: 10 });
    // A hears of its creation twice: from its own commit, then from the relay's announcement,
    // which drops the entry again. Read after both.
    await waitFor(() => heardOnA.get(ticket.id) === 2);
    expect((await read(t.app, ticket.id)).price).toBe(10);
    // A change behind the service's back (no outbox row, so no change is announced).
    await t.database.pool.query('update tickets set price_cents = 999 where id = $1', [ticket.id]);
    expect((await read(t.app, ticket.id)).price).toBe(10);
  });

  it('shows a seller their edit at once on the replica that made it', async () => {
    const { ticket, cookie } = await aTicket(t, { price: 10 });
    for (let i = 1; i <= 20; i += 1) {
      expect((await read(t.app, ticket.id)).version).toBe(i - 1); // cached
      const edit = await t.app.inject({
        method: 'PUT',
        url: `/api/tickets/${ticket.id}`,
        headers: { cookie },
        payload: { title: 'concert', price: 10 + i },
      });
      expect(edit.statusCode).toBe(200);
      expect(await read(t.app, ticket.id)).toMatchObject({ version: i, price: 10 + i });
    }
  });

  it('keeps one entry per ticket however its id is spelled, and drops it on a change', async () => {
    const { ticket, cookie } = await aTicket(t, { price: 10 });
    const shouting = ticket.id.toUpperCase();
    expect((await read(t.app, shouting)).version).toBe(0);
    await t.app.inject({
      method: 'PUT',
      url: `/api/tickets/${ticket.id}`,
      headers: { cookie },
      payload: { title: 'concert', price: 11 },
    });
    expect(await read(t.app, shouting)).toMatchObject({ id: ticket.id, version: 1, price: 11 });
  });

  it('shows a reservation made by an event at once on the replica that handled it', async () => {
    const { ticket } = await aTicket(t);
    expect((await read(t.app, ticket.id)).orderId).toBeUndefined();
    const order = anOrderCreated(ticket);
    expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
    expect((await read(t.app, ticket.id)).orderId).toBe(order.id);
  });

  it('shows an edit made on another replica within milliseconds', async () => {
    const { ticket, cookie } = await aTicket(t, { price: 10 });
    expect((await read(b.app, ticket.id)).version).toBe(0);
    expect((await read(b.app, ticket.id)).version).toBe(0); // cached on B
    const edit = await t.app.inject({
      method: 'PUT',
      url: `/api/tickets/${ticket.id}`,
      headers: { cookie },
      payload: { title: 'concert', price: 12 },
    });
    expect(edit.statusCode).toBe(200);
    const edited = Date.now();
    await waitFor(async () => (await read(b.app, ticket.id)).version === 1, 2_000, 1);
    expect(Date.now() - edited).toBeLessThan(250); // under B's 300 ms lifetime: the announcement did it
  });

  it('gives up an entry after its lifetime when no change was announced', async () => {
    const heardOnB = changesHeardBy(b.database);
    const { ticket } = await aTicket(t, { price: 10 });
    await waitFor(() => heardOnB.has(ticket.id)); // the creation's announcement, which would drop the entry
    expect((await read(b.app, ticket.id)).price).toBe(10);
    await t.database.pool.query('update tickets set price_cents = 999 where id = $1', [ticket.id]);
    expect((await read(b.app, ticket.id)).price).toBe(10);
    await waitFor(async () => (await read(b.app, ticket.id)).price === 9.99, 2_000, 20);
  });

  it('puts a new ticket on the first page at once here, and soon on the other replica', async () => {
    await firstPage(t.app);
    await firstPage(b.app);
    const { ticket } = await aTicket(t);
    expect((await firstPage(t.app))[0]!.id).toBe(ticket.id);
    await waitFor(async () => (await firstPage(b.app))[0]!.id === ticket.id, 250, 1);
  });

  it('reads TICKETS_CACHE_TTL_MS, 2 s by default, 0 for no cache', () => {
    expect(ticketsSettingsFromEnv({})).toMatchObject({ cacheTtlMs: 2_000 });
    expect(ticketsSettingsFromEnv({ TICKETS_CACHE_TTL_MS: '0' })).toMatchObject({ cacheTtlMs: 0 });
    expect(() => ticketsSettingsFromEnv({ TICKETS_CACHE_TTL_MS: 'soon' })).toThrow(ConfigError);
  });
});
