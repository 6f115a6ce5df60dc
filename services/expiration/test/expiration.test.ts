import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createServiceHarness,
  silentLogger,
  sleep,
  waitFor,
  type ServiceHarness,
} from '@ticketing/common/testing';
import { listenForNotifications } from '@ticketing/common';
import { expirationService } from '../src/service.ts';
import { ExpirationScheduler } from '../src/domain/scheduler.ts';
import { TIMER_CHANNEL, WAKE_HORIZON_MS } from '../src/data-access/timers-repository.ts';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { orderCancelledListener } from '../src/entry-points/events/order-settled.listener.ts';
import {
  ticketCreatedListener,
  ticketUpdatedListener,
} from '../src/entry-points/events/ticket-start.listener.ts';

const anOrderCreated = (expiresInMs: number, id = randomUUID()) => ({
  id,
  version: 0,
  status: 'created' as const,
  userId: randomUUID(),
  expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  ticket: { id: randomUUID(), price: 1000, version: 0, title: 'concert', sellerId: randomUUID() },
});

describe('expiration', () => {
  let e: ServiceHarness;
  beforeAll(async () => (e = await createServiceHarness(expirationService())));
  afterAll(() => e.close());

  const timers = async (orderId: string) =>
    (await e.database.pool.query('select * from expiration_timers where order_id = $1', [orderId])).rows;
  const expirations = async (orderId: string) =>
    (await e.outbox('expiration:complete')).filter((x) => x.data.orderId === orderId);

  it('schedules one timer per order, however often order:created is delivered', async () => {
    const order = anOrderCreated(60_000);
    expect(await e.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
    expect(await e.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' }); // a second event, same order
    const rows = await timers(order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].expires_at.toISOString()).toBe(order.expiresAt);
  });

  it('wakes the schedulers for a timer due soon, not for one due in minutes', async () => {
    let listening = false;
    const heard: string[] = [];
    const listener = listenForNotifications(
      e.database.url,
      TIMER_CHANNEL,
      (payload) => (payload === undefined ? (listening = true) : heard.push(payload)),
      silentLogger,
    );
    try {
      await waitFor(async () => listening, 5_000, 5);
      await e.deliver(orderCreatedListener, anOrderCreated(15 * 60_000));
      await e.deliver(orderCreatedListener, anOrderCreated(WAKE_HORIZON_MS + 1_000));
      await sleep(100);
      expect(heard).toEqual([]);
      await e.deliver(orderCreatedListener, anOrderCreated(300));
      await waitFor(async () => heard.length > 0, 2_000, 5);
      // One session's notifications arrive in commit order: any of the first two would be here.
      expect(heard).toHaveLength(1);
    } finally {
      await listener.close();
    }
  });

  it('fires a timer that woke no scheduler within a second of its time all the same', async () => {
    const scheduler = new ExpirationScheduler(e.database, silentLogger);
    try {
      const order = anOrderCreated(WAKE_HORIZON_MS + 500);
      await e.deliver(orderCreatedListener, order);
      await waitFor(async () => (await expirations(order.id)).length === 1, WAKE_HORIZON_MS + 3_000, 5);
      const lateness = Date.now() - Date.parse(order.expiresAt);
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThan(1_000);
    } finally {
      await scheduler.stop();
    }
  });

  it('drops the timer of an order cancelled before its window closed', async () => {
    const order = anOrderCreated(60_000);
    await e.deliver(orderCreatedListener, order);
    await e.deliver(orderCancelledListener, { id: order.id, version: 1, ticket: order.ticket });
    expect(await timers(order.id)).toHaveLength(0);
  });

  it('publishes expiration:complete within a second of expiresAt, through the outbox', async () => {
    const scheduler = new ExpirationScheduler(e.database, silentLogger);
    try {
      const order = anOrderCreated(400);
      await e.deliver(orderCreatedListener, order);
      await waitFor(async () => (await expirations(order.id)).length === 1, 5_000, 5);
      const lateness = Date.now() - Date.parse(order.expiresAt);
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThan(1_000);
      expect(await timers(order.id)).toHaveLength(0);
    } finally {
      await scheduler.stop();
    }
  });

  it('fires at once a timer that fell due while the service was down, and keeps timers across a restart', async () => {
    const overdue = anOrderCreated(-5_000);
    const later = anOrderCreated(700);
    await e.deliver(orderCreatedListener, overdue);
    await e.deliver(orderCreatedListener, later);
    const first = new ExpirationScheduler(e.database, silentLogger);
    await waitFor(async () => (await expirations(overdue.id)).length === 1, 2_000, 5);
    await first.stop(); // "restart" before the second timer is due
    expect(await expirations(later.id)).toHaveLength(0);
    const second = new ExpirationScheduler(e.database, silentLogger);
    try {
      await waitFor(async () => (await expirations(later.id)).length === 1, 5_000, 5);
      expect(Date.now() - Date.parse(later.expiresAt)).toBeLessThan(1_000);
    } finally {
      await second.stop();
    }
  });

  it('never fires one timer twice when several replicas run', async () => {
    const orders = Array.from({ length: 60 }, () => anOrderCreated(300));
    for (const order of orders) await e.deliver(orderCreatedListener, order);
    const replicas = [1, 2, 3].map(() => new ExpirationScheduler(e.database, silentLogger, { batchSize: 7 }));
    try {
      await waitFor(async () => {
        const fired = await e.outbox('expiration:complete');
        return orders.every((o) => fired.some((f) => f.data.orderId === o.id));
      }, 10_000);
      await sleep(300);
      for (const order of orders) expect(await expirations(order.id)).toHaveLength(1);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });
});

describe('event starts', () => {
  let e: ServiceHarness;
  beforeAll(async () => (e = await createServiceHarness(expirationService())));
  afterAll(() => e.close());

  const aTicketVersion = (startsInMs: number | undefined, version = 0, id = randomUUID()) => ({
    id,
    version,
    title: 'concert',
    price: 1000,
    faceValue: 1000,
    userId: randomUUID(),
    listed: true,
    timesSold: 0,
    ...(startsInMs === undefined ? {} : { startsAt: new Date(Date.now() + startsInMs).toISOString() }),
  });
  const timerOf = async (ticketId: string) =>
    (await e.database.pool.query('select * from event_start_timers where ticket_id = $1', [ticketId]))
      .rows[0];
  const startsOf = async (ticketId: string) =>
    (await e.outbox('expiration:event-started')).filter((x) => x.data.ticketId === ticketId);

  it('sets one timer per ticket with a start, and none for a ticket without', async () => {
    const dated = aTicketVersion(86_400_000);
    expect(await e.deliver(ticketCreatedListener, dated)).toEqual({ kind: 'ack' });
    expect((await timerOf(dated.id)).starts_at.toISOString()).toBe(dated.startsAt);
    const undated = aTicketVersion(undefined);
    await e.deliver(ticketCreatedListener, undated);
    expect(await timerOf(undated.id)).toBeUndefined();
  });

  it('moves the timer with a newer version, never with an older one arriving late', async () => {
    const v0 = aTicketVersion(86_400_000);
    const v2 = { ...aTicketVersion(2 * 86_400_000, 2, v0.id) };
    await e.deliver(ticketCreatedListener, v0);
    await e.deliver(ticketUpdatedListener, v2);
    await e.deliver(ticketUpdatedListener, { ...v0, version: 1 }); // late: the start before the move
    expect(await timerOf(v0.id)).toMatchObject({ version: 2, fired: false });
    expect((await timerOf(v0.id)).starts_at.toISOString()).toBe(v2.startsAt);
  });

  it('publishes expiration:event-started at the start, once, even as the ticket’s next versions arrive', async () => {
    const scheduler = new ExpirationScheduler(e.database, silentLogger);
    try {
      const ticket = aTicketVersion(300);
      await e.deliver(ticketCreatedListener, ticket);
      await waitFor(async () => (await startsOf(ticket.id)).length === 1, 5_000, 5);
      const lateness = Date.now() - Date.parse(ticket.startsAt!);
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThan(1_000);
      expect((await startsOf(ticket.id))[0]!.data).toEqual({
        ticketId: ticket.id,
        startsAt: ticket.startsAt,
      });
      // The unlisting that follows is a newer version with the same start: no second timer.
      await e.deliver(ticketUpdatedListener, { ...ticket, version: 1, listed: false });
      await sleep(1_200);
      expect(await startsOf(ticket.id)).toHaveLength(1);
    } finally {
      await scheduler.stop();
    }
  });
});
