import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { paymentCreatedListener } from '../src/entry-points/events/payment-created.listener.ts';
import { ticketUpdatedListener } from '../src/entry-points/events/ticket-updated.listener.ts';
import { findTicket } from '../src/data-access/orders-repository.ts';
import { aTicket, anOrder, confirm, startOrders } from './fixtures.ts';

describe('orders: resale', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders()));
  afterAll(() => o.close());

  const order = (ticketId: string, cookie: string) =>
    o.app.inject({ method: 'POST', url: '/api/orders', headers: { cookie }, payload: { ticketId } });
  const pay = (orderId: string) =>
    o.deliver(paymentCreatedListener, { id: randomUUID(), orderId, providerChargeId: `ch_${orderId}` });

  /** A's ticket, bought and paid by B: the order is complete, the tickets service not heard from yet. */
  async function aSale() {
    const seller = await o.signIn();
    const ticket = await aTicket(o, { sellerId: seller.user.id });
    const buyer = await o.signIn();
    const { order: placed } = await anOrder(o, ticket.id, buyer.cookie);
    await confirm(o, ticket, placed.id);
    expect(await pay(placed.id)).toEqual({ kind: 'ack' });
    return { ticket, seller, buyer, orderId: placed.id };
  }

  /** The tickets service's next version: the ticket handed to its buyer, then listed by them. */
  const transferred = (ticket: Awaited<ReturnType<typeof aSale>>['ticket'], buyerId: string) => ({
    ...ticket,
    version: 2,
    userId: buyerId,
    listed: false,
    timesSold: 1,
  });

  it('publishes the buyer with the completion and records the seller and when it was paid', async () => {
    const { buyer, seller, orderId } = await aSale();
    const completed = (await o.outbox('order:completed')).find((e) => e.data.id === orderId);
    expect(completed?.data).toMatchObject({ id: orderId, userId: buyer.user.id });
    const { rows } = await o.database.pool.query('select seller_id, completed_at from orders where id = $1', [
      orderId,
    ]);
    expect(rows[0].seller_id).toBe(seller.user.id);
    expect(Date.now() - rows[0].completed_at.getTime()).toBeLessThan(60_000);
  });

  it('takes no order for a sold ticket until its new owner lists it, then takes one from them', async () => {
    const { ticket, buyer } = await aSale();
    const third = await o.signIn();
    // Sold: the replica still says listed by A, but A's sale is complete.
    expect((await order(ticket.id, third.cookie)).json()).toEqual({
      errors: [{ message: 'Ticket is already reserved', field: 'ticketId' }],
    });
    // The sale reaches the replica: B owns it, not listed.
    await o.deliver(ticketUpdatedListener, transferred(ticket, buyer.user.id));
    expect(await findTicket(o.database.db, ticket.id)).toMatchObject({
      sellerId: buyer.user.id,
      listed: false,
      timesSold: 1,
      version: 2,
    });
    expect((await order(ticket.id, third.cookie)).statusCode).toBe(404);
    // B lists it: C orders it from B.
    await o.deliver(ticketUpdatedListener, {
      ...transferred(ticket, buyer.user.id),
      version: 3,
      listed: true,
    });
    const resale = await order(ticket.id, third.cookie);
    expect(resale.statusCode).toBe(201);
    const created = (await o.outbox('order:created')).find((e) => e.data.id === resale.json().id);
    expect(created?.data.ticket).toMatchObject({ sellerId: buyer.user.id, version: 3 });
    // B cannot buy their own ticket.
    expect((await order(ticket.id, buyer.cookie)).statusCode).toBe(400);
  });

  it("lists each seller's completed sales, the most recent first, and nobody else's", async () => {
    const first = await aSale();
    const second = await aSale();
    // The same seller sells a second ticket.
    const ticket = await aTicket(o, { sellerId: first.seller.user.id, price: 3550 });
    const { order: placed } = await anOrder(o, ticket.id, second.buyer.cookie);
    await confirm(o, ticket, placed.id);
    await pay(placed.id);
    const sales = await o.app.inject({ url: '/api/orders/sales', headers: { cookie: first.seller.cookie } });
    expect(sales.statusCode).toBe(200);
    expect(sales.json().sales).toEqual([
      {
        orderId: placed.id,
        ticket: { id: ticket.id, title: 'concert' },
        price: 35.5,
        soldAt: expect.any(String),
      },
      {
        orderId: first.orderId,
        ticket: { id: first.ticket.id, title: 'concert' },
        price: 20,
        soldAt: expect.any(String),
      },
    ]);
    const buyers = await o.app.inject({ url: '/api/orders/sales', headers: { cookie: first.buyer.cookie } });
    expect(buyers.json()).toEqual({ sales: [] });
    expect((await o.app.inject({ url: '/api/orders/sales' })).statusCode).toBe(401);
  });
});
