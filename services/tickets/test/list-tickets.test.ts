import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { aTicket, anOrderCreated, startTickets } from './fixtures.ts';

describe('GET /api/tickets', () => {
  let t: ServiceHarness;
  const titles: string[] = [];
  beforeAll(async () => {
    t = await startTickets();
    for (let i = 0; i < 25; i++) {
      const { ticket } = await aTicket(t, { title: `show ${i}` });
      titles.push(ticket.title);
      if (i === 3) await t.deliver(orderCreatedListener, anOrderCreated(ticket)); // reserved: not for sale
    }
  });
  afterAll(() => t.close());

  type Page = { tickets: { title: string }[]; nextCursor: string | null };

  it('lists the available tickets newest first, 20 by default, with a cursor to the rest', async () => {
    const first = (await t.app.inject({ url: '/api/tickets' })).json<Page>();
    expect(first.tickets).toHaveLength(20);
    expect(first.tickets[0]!.title).toBe('show 24');
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await t.app.inject({ url: `/api/tickets?cursor=${first.nextCursor}` })).json<Page>();
    expect(second.nextCursor).toBeNull();
    const all = [...first.tickets, ...second.tickets].map((x) => x.title);
    expect(all).toEqual(titles.filter((x) => x !== 'show 3').reverse());
  });

  it('honours limit and refuses one above the maximum', async () => {
    expect((await t.app.inject({ url: '/api/tickets?limit=5' })).json<Page>().tickets).toHaveLength(5);
    const response = await t.app.inject({ url: '/api/tickets?limit=1000' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('limit');
  });

  it('refuses a forged cursor with 400', async () => {
    const response = await t.app.inject({ url: '/api/tickets?cursor=garbage' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('cursor');
  });
});
