import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aTicket, startTickets } from './fixtures.ts';

describe('GET /api/tickets/:id', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startTickets()));
  afterAll(() => t.close());

  it('returns 404 for an unknown ticket', async () => {
    const response = await t.app.inject({ url: `/api/tickets/${randomUUID()}` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ errors: [{ message: 'Ticket not found' }] });
  });

  it.each(['not-an-id', `urn:uuid:${randomUUID()}`])('returns 400, not 500, for the id %s', async (id) => {
    const response = await t.app.inject({ url: `/api/tickets/${id}` });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('id');
  });

  it('returns the ticket, to anyone', async () => {
    const { ticket } = await aTicket(t, { title: 'opera', price: 99.9 });
    const response = await t.app.inject({ url: `/api/tickets/${ticket.id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: ticket.id, title: 'opera', price: 99.9, version: 0 });
  });
});
