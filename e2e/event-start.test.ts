/**
 * A listing ends when its event starts, in every service at once: the tickets service stops
 * listing it, the orders service refuses orders and cancels an unpaid one at the start (its expiry
 * never runs past it), and the expiration service's timer turns the end into a new version of the
 * ticket that every replica follows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { startOneProcess, User, type System } from './support.ts';

interface Ticket {
  id: string;
  listed: boolean;
  startsAt?: string;
}
interface Order {
  id: string;
  status: string;
  expiresAt: string;
  cancelledBy?: string;
}

describe('the start of an event, across the services', () => {
  let system: System;
  let seller: User;
  let buyer: User;
  beforeAll(async () => {
    system = await startOneProcess({ orderExpirationSeconds: 900 });
    seller = await new User(system.route).signUp();
    buyer = await new User(system.route).signUp();
  });
  afterAll(() => system.stop());

  /** A ticket for an event starting in `ms`, once the orders service's replica has it. */
  async function startingIn(ms: number, title: string): Promise<Ticket> {
    const startsAt = new Date(Date.now() + ms).toISOString();
    const created = await seller.request<Ticket>('POST', '/api/tickets', { title, price: 20, startsAt });
    expect(created.status).toBe(201);
    await waitFor(
      async () =>
        (await system.query('orders', 'select 1 from tickets where id = $1', [created.body.id])).length === 1,
      30_000,
      20,
    );
    return created.body;
  }
  const forSale = async () =>
    (await buyer.request<Ticket[]>('GET', '/api/tickets?limit=100')).body.map((t) => t.id);

  it('ends the listing, cancels the unpaid order and refuses new ones when the event starts', async () => {
    const ordered = await startingIn(8_000, 'Starts soon, ordered');
    const free = await startingIn(8_000, 'Starts soon, free');
    const placed = await buyer.request<Order>('POST', '/api/orders', { ticketId: ordered.id });
    expect(placed.status).toBe(201);
    expect(placed.body.expiresAt).toBe(ordered.startsAt); // not 15 minutes: the show starts first
    expect(await forSale()).toContain(free.id);

    const start = Date.parse(free.startsAt!);
    await waitFor(async () => Date.now() > start, 10_000, 20);
    // From the start on, neither is for sale, before or after the timers have run.
    expect(await forSale()).not.toContain(free.id);
    // Refused as started while the orders replica still has it listed, or as unknown once the
    // expiration timer's end of the listing has reached the replica (it can within milliseconds).
    const refused = await buyer.request('POST', '/api/orders', { ticketId: free.id });
    expect([
      {
        status: 400,
        body: { errors: [{ message: 'This event has already started', field: 'ticketId' }] },
      },
      { status: 404, body: { errors: [{ message: 'Ticket not found' }] } },
    ]).toContainEqual(refused);

    // The order expires at the start, and both tickets end unlisted, in every replica.
    await waitFor(
      async () =>
        (await buyer.request<Order>('GET', `/api/orders/${placed.body.id}`)).body.status === 'cancelled',
      10_000,
      20,
    );
    expect((await buyer.request<Order>('GET', `/api/orders/${placed.body.id}`)).body.cancelledBy).toBe(
      'expiry',
    );
    for (const ticket of [ordered, free]) {
      await waitFor(async () => {
        const [row] = await system.query<{ listed: boolean; order_id: string | null }>(
          'tickets',
          'select listed, order_id from tickets where id = $1',
          [ticket.id],
        );
        const [replica] = await system.query<{ listed: boolean }>(
          'orders',
          'select listed from tickets where id = $1',
          [ticket.id],
        );
        return row?.listed === false && row.order_id === null && replica?.listed === false;
      }, 10_000);
    }
    // Its owner still sees it, unlisted; nobody else does.
    expect((await seller.request<Ticket>('GET', `/api/tickets/${free.id}`)).body.listed).toBe(false);
    expect((await buyer.request('GET', `/api/tickets/${free.id}`)).status).toBe(404);
    // And it cannot be listed again.
    const relisted = await seller.request('POST', `/api/tickets/${free.id}/listing`, { price: 20 });
    expect(relisted).toEqual({
      status: 400,
      body: { errors: [{ message: 'This event has already started' }] },
    });
  });
});
