import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aTicket, anOrder, startOrders } from './fixtures.ts';

describe('DELETE /api/orders/:id', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders()));
  afterAll(() => o.close());
  const cancel = (id: string, cookie?: string) =>
    o.app.inject({ method: 'DELETE', url: `/api/orders/${id}`, headers: cookie ? { cookie } : {} });
  const statusOf = async (id: string) =>
    (await o.database.pool.query('select status, version from orders where id = $1', [id])).rows[0];
  const cancellations = async (id: string) =>
    (await o.outbox('order:cancelled')).filter((e) => e.data.id === id);

  it('marks an order as cancelled and publishes order:cancelled with the new version', async () => {
    const ticket = await aTicket(o);
    const { order, cookie } = await anOrder(o, ticket.id);
    const response = await cancel(order.id, cookie);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(response.headers['content-type']).toBeUndefined();
    expect(await statusOf(order.id)).toEqual({ status: 'cancelled', version: 1 });
    expect((await cancellations(order.id)).map((e) => e.data)).toEqual([
      { id: order.id, version: 1, ticket: { id: ticket.id } },
    ]);
  });

  it('changes nothing and publishes nothing when the order is already cancelled', async () => {
    const ticket = await aTicket(o);
    const { order, cookie } = await anOrder(o, ticket.id);
    await cancel(order.id, cookie);
    expect((await cancel(order.id, cookie)).statusCode).toBe(204);
    expect(await statusOf(order.id)).toEqual({ status: 'cancelled', version: 1 });
    expect(await cancellations(order.id)).toHaveLength(1);
  });

  it('refuses to cancel a completed order', async () => {
    const ticket = await aTicket(o);
    const { order, cookie } = await anOrder(o, ticket.id);
    await o.database.pool.query(`update orders set status = 'complete', version = 1 where id = $1`, [
      order.id,
    ]);
    const response = await cancel(order.id, cookie);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toBe('Cannot cancel a completed order');
    expect(await cancellations(order.id)).toHaveLength(0);
  });

  it("returns 401 for another user's order and leaves it alone", async () => {
    const ticket = await aTicket(o);
    const { order } = await anOrder(o, ticket.id);
    const { cookie: stranger } = await o.signIn();
    expect((await cancel(order.id, stranger)).statusCode).toBe(401);
    expect((await cancel(order.id)).statusCode).toBe(401);
    expect((await statusOf(order.id)).status).toBe('created');
  });

  it('returns 404 for an unknown order', async () => {
    const { cookie } = await o.signIn();
    expect((await cancel(randomUUID(), cookie)).statusCode).toBe(404);
  });
});
