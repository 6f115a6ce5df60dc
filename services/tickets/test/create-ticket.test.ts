import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { startTickets } from './fixtures.ts';

describe('POST /api/tickets', () => {
  let t: ServiceHarness;
  let cookie: string;
  beforeAll(async () => {
    t = await startTickets();
    ({ cookie } = await t.signIn());
  });
  afterAll(() => t.close());
  const post = (payload: unknown, headers: Record<string, string> = { cookie }) =>
    t.app.inject({ method: 'POST', url: '/api/tickets', headers, payload: payload as object });

  it('can only be used when signed in', async () => {
    const response = await post({ title: 'concert', price: 10 }, {});
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ errors: [{ message: 'Not authorized' }] });
  });

  it('does not answer 401 to a signed-in user', async () => {
    expect((await post({})).statusCode).not.toBe(401);
  });

  it.each([
    [{ title: '', price: 10 }, 'title'],
    [{ title: '   ', price: 10 }, 'title'],
    [{ title: 'x'.repeat(201), price: 10 }, 'title'],
    [{ title: '🎫'.repeat(201), price: 10 }, 'title'],
    [{ title: 'concert', price: 1_000_000.01 }, 'price'],
    [{ price: 10 }, 'title'],
    [{ title: 42, price: 10 }, 'title'],
    [{ title: 'con\u0000cert', price: 10 }, 'title'], // Postgres's text cannot hold it
    [{ title: 'concert', price: -10 }, 'price'],
    [{ title: 'concert', price: 0 }, 'price'],
    [{ title: 'concert', price: 10.001 }, 'price'],
    [{ title: 'concert', price: '10' }, 'price'],
    [{ title: 'concert' }, 'price'],
  ])('rejects %j with a 400 naming %s', async (payload, field) => {
    const response = await post(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json<{ errors: { field?: string }[] }>().errors.map((e) => e.field)).toContain(field);
  });

  it('rejects a body that is not JSON without a 500', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/tickets',
      headers: { cookie, 'content-type': 'application/json' },
      payload: '{"title":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toBeTruthy();
  });

  it('creates a ticket with valid inputs, trimming the title, keeping the price exact', async () => {
    const { user, cookie: seller } = await t.signIn();
    const response = await post({ title: '  concert  ', price: 35.5 }, { cookie: seller });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ title: 'concert', price: 35.5, userId: user.id, version: 0 });
    expect(response.json()).not.toHaveProperty('orderId');
    const { rows } = await t.database.pool.query('select price_cents from tickets where id = $1', [
      response.json().id,
    ]);
    expect(rows[0].price_cents).toBe(3550);
  });

  it('takes a title of 200 characters however many UTF-16 units they need, and the highest price', async () => {
    const response = await post({ title: '🎫'.repeat(200), price: 1_000_000 });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ title: '🎫'.repeat(200), price: 1_000_000 });
  });

  it('publishes ticket:created through the outbox, price in cents', async () => {
    const response = await post({ title: 'festival', price: 19.99 });
    const events = await t.outbox('ticket:created');
    expect(events.at(-1)!.data).toEqual({
      id: response.json().id,
      version: 0,
      title: 'festival',
      price: 1999,
      faceValue: 1999,
      userId: response.json().userId,
      listed: true,
      timesSold: 0,
    });
  });
});
