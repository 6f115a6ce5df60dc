import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { aTicket, anOrderCreated, startTickets } from './fixtures.ts';

describe('PUT /api/tickets/:id', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startTickets()));
  afterAll(() => t.close());
  const put = (id: string, payload: object, cookie?: string) =>
    t.app.inject({ method: 'PUT', url: `/api/tickets/${id}`, headers: cookie ? { cookie } : {}, payload });

  it('returns 404 for an unknown ticket', async () => {
    const { cookie } = await t.signIn();
    expect((await put(randomUUID(), { title: 'x', price: 1 }, cookie)).statusCode).toBe(404);
  });

  it('returns 401 when not signed in', async () => {
    const { ticket } = await aTicket(t);
    expect((await put(ticket.id, { title: 'x', price: 1 })).statusCode).toBe(401);
  });

  it('returns 401 to a user who does not own the ticket, and changes nothing', async () => {
    const { ticket } = await aTicket(t, { title: 'mine' });
    const { cookie: stranger } = await t.signIn();
    expect((await put(ticket.id, { title: 'stolen', price: 1 }, stranger)).statusCode).toBe(401);
    expect((await t.app.inject({ url: `/api/tickets/${ticket.id}` })).json().title).toBe('mine');
  });

  it('returns 400 for an invalid title or price', async () => {
    const { ticket, cookie } = await aTicket(t);
    expect((await put(ticket.id, { title: '', price: 20 }, cookie)).statusCode).toBe(400);
    expect((await put(ticket.id, { title: 'ok', price: -10 }, cookie)).statusCode).toBe(400);
    // A title that would read as another listing's (a right-to-left override) is refused here too.
    const spoof = await put(ticket.id, { title: 'Concert \u202Etsiv', price: 20 }, cookie);
    expect(spoof.statusCode).toBe(400);
    expect(spoof.json().errors).toEqual([{ message: expect.stringContaining('U+202E'), field: 'title' }]);
  });

  it('updates the ticket, bumps its version and publishes ticket:updated', async () => {
    const { ticket, cookie } = await aTicket(t);
    const response = await put(ticket.id, { title: 'new title', price: 100 }, cookie);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ title: 'new title', price: 100, version: 1 });
    const events = await t.outbox('ticket:updated');
    expect(events.at(-1)!.data).toMatchObject({
      id: ticket.id,
      version: 1,
      title: 'new title',
      price: 10000,
    });
  });

  it('refuses to edit a reserved ticket', async () => {
    const { ticket, cookie } = await aTicket(t);
    await t.deliver(orderCreatedListener, anOrderCreated(ticket));
    const response = await put(ticket.id, { title: 'new', price: 5 }, cookie);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [{ message: 'Cannot edit a reserved ticket' }] });
  });

  it('saves every one of many edits sent at once, each as its own version with its own event', async () => {
    const { ticket, cookie } = await aTicket(t);
    const edits = Array.from({ length: 12 }, (_, i) => ({ title: `edit ${i}`, price: 10 + i }));
    const responses = await Promise.all(edits.map((edit) => put(ticket.id, edit, cookie)));
    expect(responses.map((r) => r.statusCode)).toEqual(edits.map(() => 200));
    // Each edit lost its races or won them, but none was lost and none saved twice.
    const versions = responses.map((r) => r.json().version as number).sort((a, b) => a - b);
    expect(versions).toEqual(edits.map((_, i) => i + 1));
    const events = (await t.outbox('ticket:updated')).filter((e) => e.data.id === ticket.id);
    expect(events.map((e) => e.data.version).sort((a, b) => a - b)).toEqual(versions);
    // The ticket ends as the edit that saved the last version left it, and its event says so.
    const last = responses.find((r) => r.json().version === edits.length)!.json();
    const shown = (await t.app.inject({ url: `/api/tickets/${ticket.id}` })).json();
    expect(shown).toMatchObject({ title: last.title, price: last.price, version: edits.length });
    expect(events.find((e) => e.data.version === edits.length)!.data.title).toBe(last.title);
  });
});
