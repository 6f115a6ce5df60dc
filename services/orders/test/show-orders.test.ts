import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aTicket, anOrder, startOrders } from './fixtures.ts';

describe('GET /api/orders and /api/orders/:id', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders()));
  afterAll(() => o.close());

  it("fetches only the signed-in user's orders, with their tickets, newest first", async () => {
    const [one, two, three] = [await aTicket(o), await aTicket(o), await aTicket(o)];
    const userOne = await o.signIn();
    const userTwo = await o.signIn();
    await anOrder(o, one.id, userOne.cookie);
    const { order: first } = await anOrder(o, two.id, userTwo.cookie);
    const { order: second } = await anOrder(o, three.id, userTwo.cookie);

    const response = await o.app.inject({ url: '/api/orders', headers: { cookie: userTwo.cookie } });
    expect(response.statusCode).toBe(200);
    const orders = response.json();
    expect(orders.map((x: { id: string }) => x.id)).toEqual([second.id, first.id]);
    expect(orders[0].ticket).toEqual({ id: three.id, title: 'concert', price: 20 });
  });

  it('requires a session to list orders', async () => {
    expect((await o.app.inject({ url: '/api/orders' })).statusCode).toBe(401);
  });

  it('fetches one order for its owner', async () => {
    const ticket = await aTicket(o);
    const { order, cookie } = await anOrder(o, ticket.id);
    const response = await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: order.id, ticket: { id: ticket.id } });
    expect(response.json()).not.toHaveProperty('cancelledBy'); // open: cancelled by nobody
    // Placed just now, in ISO-8601 UTC; not completed yet.
    const { createdAt } = response.json<{ createdAt: string }>();
    expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(createdAt) - Date.now())).toBeLessThan(60_000);
    expect(response.json()).not.toHaveProperty('completedAt');
  });

  it("returns 401 when one user asks for another user's order", async () => {
    const ticket = await aTicket(o);
    const { order } = await anOrder(o, ticket.id);
    const { cookie: stranger } = await o.signIn();
    expect(
      (await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie: stranger } })).statusCode,
    ).toBe(401);
  });

  it('returns 404 for an unknown order and 400 for a malformed id', async () => {
    const { cookie } = await o.signIn();
    expect((await o.app.inject({ url: `/api/orders/${randomUUID()}`, headers: { cookie } })).statusCode).toBe(
      404,
    );
    expect((await o.app.inject({ url: '/api/orders/123', headers: { cookie } })).statusCode).toBe(400);
  });
});

describe('GET /api/orders/config', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders(120)));
  afterAll(() => o.close());

  it('tells anyone how long an unpaid order holds its ticket, as configured', async () => {
    const response = await o.app.inject({ url: '/api/orders/config' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ expirationSeconds: 120 });
  });

  it('is the window a new order gets', async () => {
    const ticket = await aTicket(o);
    const { order } = await anOrder(o, ticket.id);
    const window = Date.parse(order.expiresAt) - Date.parse(order.createdAt);
    expect(window).toBeGreaterThan(119_000);
    expect(window).toBeLessThan(121_000);
  });
});
