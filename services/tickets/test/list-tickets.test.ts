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

  type Ticket = { title: string };

  it('answers a JSON array, newest first, 20 by default, with a Link header to the rest', async () => {
    const first = await t.app.inject({ url: '/api/tickets' });
    const tickets = first.json<Ticket[]>();
    expect(tickets).toHaveLength(20);
    expect(tickets[0]!.title).toBe('show 24');
    const next = /^<(\/api\/tickets\?[^>]+)>; rel="next"$/.exec(String(first.headers.link))?.[1];
    expect(next).toEqual(expect.stringContaining('cursor='));
    const second = await t.app.inject({ url: next! });
    expect(second.headers.link).toBeUndefined();
    const all = [...tickets, ...second.json<Ticket[]>()].map((x) => x.title);
    expect(all).toEqual(titles.filter((x) => x !== 'show 3').reverse());
  });

  it('honours limit and refuses one above the maximum', async () => {
    expect((await t.app.inject({ url: '/api/tickets?limit=5' })).json<Ticket[]>()).toHaveLength(5);
    const response = await t.app.inject({ url: '/api/tickets?limit=1000' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('limit');
  });

  it('refuses a forged cursor with 400', async () => {
    const response = await t.app.inject({ url: '/api/tickets?cursor=garbage' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('cursor');
  });

  // A cursor is base64 of JSON anyone can write: its time must be one Postgres reads, not a 500.
  const cursorAt = (createdAt: string) =>
    Buffer.from(JSON.stringify(['newest', createdAt, '03497ad9-224c-4119-b497-7512ebafc79a'])).toString(
      'base64url',
    );

  it.each([
    '2026-02-30 10:00:00+00',
    '2026-13-01 10:00:00+00',
    '2026-01-01 24:00:00+00',
    '2026-01-01 10:00:00+16',
    '0000-01-01 10:00:00+00',
    '2026-01-01',
    'Tue, 01 Dec 2026 10:00:00 GMT',
  ])('refuses a cursor at %s with 400', async (createdAt) => {
    const response = await t.app.inject({ url: `/api/tickets?cursor=${cursorAt(createdAt)}` });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0]).toEqual({ message: 'cursor is invalid', field: 'cursor' });
  });

  // The id is a UUID: anything else of 36 characters would be the database's 500.
  const cursorWithId = (id: string) =>
    Buffer.from(JSON.stringify(['newest', '2026-12-01 10:00:00+00', id])).toString('base64url');

  it.each([
    '-'.repeat(36),
    'ffffffff-ffff-ffff-ffff-ffffffffffff-',
    '0123456789abcdef0123456789abcdef0123',
    '03497ad9-224c-4119-b497-7512ebafc79',
    '03497ad9-224c-4119-b497-7512ebafc79g',
    '03497ad9224c-4119-b497-7512-ebafc79a',
    '{03497ad9-224c-4119-b497-7512ebafc79a}',
  ])('refuses a cursor whose id is %s with 400, never 500', async (id) => {
    const response = await t.app.inject({ url: `/api/tickets?cursor=${cursorWithId(id)}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [{ message: 'cursor is invalid', field: 'cursor' }] });
  });

  it('takes a cursor whose id is a UUID, in either case', async () => {
    for (const id of ['03497ad9-224c-4119-b497-7512ebafc79a', '03497AD9-224C-4119-B497-7512EBAFC79A'])
      expect((await t.app.inject({ url: `/api/tickets?cursor=${cursorWithId(id)}` })).statusCode).toBe(200);
  });

  it.each(['2024-02-29 23:59:59.123456+00', '2026-12-01T10:00:00Z', '2026-12-01 10:00:00-15:30'])(
    'takes a cursor at %s',
    async (createdAt) => {
      const response = await t.app.inject({ url: `/api/tickets?cursor=${cursorAt(createdAt)}` });
      expect(response.statusCode).toBe(200);
    },
  );
});
