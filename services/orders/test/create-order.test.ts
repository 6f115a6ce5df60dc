import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { findTicketToOrder, insertOrderUnlessHeld } from '../src/data-access/orders-repository.ts';
import { aTicket, anOrder, startOrders } from './fixtures.ts';

describe('POST /api/orders', () => {
  let o: ServiceHarness;
  let cookie: string;
  beforeAll(async () => {
    o = await startOrders(60);
    ({ cookie } = await o.signIn());
  });
  afterAll(() => o.close());
  const post = (payload: object, headers: Record<string, string> = { cookie }) =>
    o.app.inject({ method: 'POST', url: '/api/orders', headers, payload });

  it('can only be used when signed in', async () => {
    expect((await post({ ticketId: randomUUID() }, {})).statusCode).toBe(401);
  });

  it.each([[{}], [{ ticketId: 'abc' }], [{ ticketId: 42 }]])(
    'rejects %j with 400 naming ticketId',
    async (payload) => {
      const response = await post(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].field).toBe('ticketId');
    },
  );

  it('returns 404 when the ticket does not exist', async () => {
    const response = await post({ ticketId: randomUUID() });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ errors: [{ message: 'Ticket not found' }] });
  });

  it('returns 400 when the ticket is already reserved', async () => {
    const ticket = await aTicket(o);
    await anOrder(o, ticket.id);
    const response = await post({ ticketId: ticket.id });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toBe('Ticket is already reserved');
  });

  it('tells a held ticket from a free one in the query before any transaction', async () => {
    // The refusal of most buyers in a rush rests on it (the unique index would refuse them too,
    // but only after one more statement each).
    const ticket = await aTicket(o);
    expect((await findTicketToOrder(o.database.db, ticket.id))?.reserved).toBe(false);
    const { order } = await anOrder(o, ticket.id);
    expect(await findTicketToOrder(o.database.db, ticket.id)).toMatchObject({
      ticket: { id: ticket.id },
      reserved: true,
    });
    await o.database.pool.query("update orders set status = 'cancelled' where id = $1", [order.id]);
    expect((await findTicketToOrder(o.database.db, ticket.id))?.reserved).toBe(false);
  });

  it('refuses to let a seller order their own ticket', async () => {
    const { user, cookie: seller } = await o.signIn();
    const ticket = await aTicket(o, { sellerId: user.id });
    expect((await post({ ticketId: ticket.id }, { cookie: seller })).statusCode).toBe(400);
  });

  it('reserves a ticket: 201 with the order, its ticket and its expiry', async () => {
    const ticket = await aTicket(o, { price: 3550 });
    const { user, cookie: buyer } = await o.signIn();
    const before = Date.now();
    const response = await post({ ticketId: ticket.id }, { cookie: buyer });
    expect(response.statusCode).toBe(201);
    const order = response.json();
    expect(order).toMatchObject({
      status: 'created',
      userId: user.id,
      version: 0,
      ticket: { id: ticket.id, title: 'concert', price: 35.5 },
    });
    const expiresIn = Date.parse(order.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan(59_000);
    expect(expiresIn).toBeLessThan(61_000);
  });

  describe('with the price the buyer saw', () => {
    const ordersOf = async (ticketId: string) =>
      (await o.database.pool.query('select id from orders where ticket_id = $1', [ticketId])).rows;

    it('places the order when it is the price of the ticket', async () => {
      const ticket = await aTicket(o, { price: 3550 });
      const response = await post({ ticketId: ticket.id, price: 35.5 });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ status: 'created', ticket: { price: 35.5 } });
    });

    it('refuses another price with 400 on price, saying it changed, before any order exists', async () => {
      const ticket = await aTicket(o, { price: 5500 });
      const response = await post({ ticketId: ticket.id, price: 10 });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        errors: [
          {
            message: 'The price of this ticket changed from 10.00 to 55.00; check it and order again',
            field: 'price',
          },
        ],
      });
      expect(await ordersOf(ticket.id)).toEqual([]);
      expect((await o.outbox('order:created')).filter((e) => e.data.ticket.id === ticket.id)).toEqual([]);
    });

    it.each([[0], [-5], [10.005], ['10']])('refuses %j as a price with 400 on price', async (price) => {
      const ticket = await aTicket(o, { price: 1000 });
      const response = await post({ ticketId: ticket.id, price });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].field).toBe('price');
      expect(await ordersOf(ticket.id)).toEqual([]);
    });
  });

  it('publishes order:created through the outbox', async () => {
    const ticket = await aTicket(o, { price: 1234 });
    const { order } = await anOrder(o, ticket.id);
    const event = (await o.outbox('order:created')).find((e) => e.data.id === order.id);
    expect(event?.data).toEqual({
      id: order.id,
      version: 0,
      status: 'created',
      userId: expect.any(String),
      expiresAt: order.expiresAt,
      // What it was priced from: the replica's ticket, its version, title and owner.
      ticket: { id: ticket.id, price: 1234, version: 0, title: 'concert', sellerId: ticket.userId },
    });
  });

  it('inserts and queues nothing for the loser of a race: a buyer past the check when another order holds the ticket', async () => {
    const ticket = await aTicket(o);
    const holder = (await anOrder(o, ticket.id)).order;
    const order = {
      id: randomUUID(),
      userId: randomUUID(),
      ticketId: ticket.id,
      status: 'created' as const,
      priceCents: ticket.price,
      sellerId: ticket.userId,
      ticketTimesSold: 0,
      expiresAt: new Date(Date.now() + 60_000),
      version: 0,
    };
    const event = {
      id: order.id,
      version: 0,
      status: order.status,
      userId: order.userId,
      expiresAt: order.expiresAt.toISOString(),
      ticket: { id: ticket.id, price: ticket.price, version: 0, title: 'concert', sellerId: ticket.userId },
    };
    const queued = async () => (await o.outbox('order:created')).filter((e) => e.data.id === order.id);
    expect(await insertOrderUnlessHeld(o.database, order, event)).toBeUndefined();
    expect(await queued()).toEqual([]);

    // Once the holder is cancelled, the same insert goes in, with its event.
    await o.database.pool.query("update orders set status = 'cancelled' where id = $1", [holder.id]);
    const created = await insertOrderUnlessHeld(o.database, order, event);
    expect(created).toMatchObject({ id: order.id, ticketId: ticket.id, status: 'created' });
    expect(created!.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(created!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await queued()).map((e) => e.data)).toEqual([event]);
  });

  it('lets a ticket be ordered again once its order is cancelled', async () => {
    const ticket = await aTicket(o);
    const first = await anOrder(o, ticket.id);
    await o.app.inject({
      method: 'DELETE',
      url: `/api/orders/${first.order.id}`,
      headers: { cookie: first.cookie },
    });
    expect((await post({ ticketId: ticket.id })).statusCode).toBe(201);
  });

  it('creates exactly one order out of 100 simultaneous requests for one ticket, the rest 400', async () => {
    const ticket = await aTicket(o);
    const buyers = await Promise.all(Array.from({ length: 100 }, () => o.signIn()));
    const responses = await Promise.all(
      buyers.map((b) => post({ ticketId: ticket.id }, { cookie: b.cookie })),
    );
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 400)).toHaveLength(99);
    const { rows } = await o.database.pool.query(
      'select count(*)::int as n from orders where ticket_id = $1',
      [ticket.id],
    );
    expect(rows[0].n).toBe(1);
    expect((await o.outbox('order:created')).filter((e) => e.data.ticket.id === ticket.id)).toHaveLength(1);
  });
});
