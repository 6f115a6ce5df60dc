/**
 * The original course app's Next.js client against this API, unchanged: every request it makes,
 * exactly as it sends it (axios's headers, the price as the decimal text of its input, the
 * server-side render's requests with only the cookie), and every field of every answer it reads.
 * Shapes this API added since (face values, owners, credentials) may be there too; nothing the old
 * client reads may be missing or of another type.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { startOneProcess, type System } from './support.ts';

/** What axios sends from the browser: its Accept, a JSON body, the same origin. */
const browserHeaders = (origin: string, cookie: string) => ({
  accept: 'application/json, text/plain, */*',
  'content-type': 'application/json',
  origin,
  'sec-fetch-site': 'same-origin',
  ...(cookie ? { cookie } : {}),
});

describe('the original course app’s client, unchanged', () => {
  let system: System;
  let base: string;
  beforeAll(async () => {
    system = await startOneProcess();
    base = system.route('/');
  });
  afterAll(() => system.stop());

  /** One browser: its cookie jar, and the client's two ways of asking. */
  function browser() {
    let cookie = '';
    const remember = (response: Response) => {
      const set = response.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0]!;
    };
    return {
      /** A request of the page's own code: `useRequest`'s `axios[method](url, body)`. */
      async send(method: string, path: string, body: object = {}) {
        const response = await fetch(base + path, {
          method,
          headers: browserHeaders(base, cookie),
          body: JSON.stringify(body),
        });
        remember(response);
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      },
      /** A request of `getInitialProps` on the server: `buildClient(context).get(url)`, the cookie forwarded. */
      async render(path: string) {
        const response = await fetch(base + path, {
          headers: { accept: 'application/json, text/plain, */*', cookie },
        });
        return { status: response.status, body: await response.json() };
      },
    };
  }

  it('signs up, sells, buys and pays as that client does, and reads every field it shows', async () => {
    const seller = browser();
    const buyer = browser();
    const email = (who: string) => `${who}-${randomUUID()}@example.test`;

    // auth/signup: useRequest({ url: '/api/users/signup', method: 'post', body: { email, password } })
    const signedUp = await seller.send('POST', '/api/users/signup', {
      email: email('seller'),
      password: 'correct horse',
    });
    expect(signedUp).toMatchObject({
      status: 201,
      body: { id: expect.any(String), email: expect.any(String) },
    });
    expect(
      (await buyer.send('POST', '/api/users/signup', { email: email('buyer'), password: 'correct horse' }))
        .status,
    ).toBe(201);

    // _app's getInitialProps: GET /api/users/currentuser → { currentUser }
    expect(await seller.render('/api/users/currentuser')).toMatchObject({
      status: 200,
      body: { currentUser: { id: signedUp.body.id, email: signedUp.body.email } },
    });

    // tickets/new: body { title, price } with price the input's text, formatted on blur to 2 decimals.
    const created = await seller.send('POST', '/api/tickets', {
      title: 'Original client night',
      price: '20.00',
    });
    expect(created).toMatchObject({
      status: 201,
      body: { id: expect.any(String), title: 'Original client night', price: 20 },
    });
    const ticketId = created.body.id as string;

    // The landing page: GET /api/tickets, then tickets.map(ticket => ticket.title, ticket.price, ticket.id).
    const landing = await buyer.render('/api/tickets');
    expect(landing.status).toBe(200);
    expect(Array.isArray(landing.body)).toBe(true);
    const shown = (landing.body as { id: string; title: string; price: number }[]).find(
      (t) => t.id === ticketId,
    );
    expect(shown).toMatchObject({ title: 'Original client night', price: 20 });

    // tickets/[ticketId]: GET /api/tickets/:id → ticket.title, ticket.price
    expect(await buyer.render(`/api/tickets/${ticketId}`)).toMatchObject({
      status: 200,
      body: { id: ticketId, title: 'Original client night', price: 20 },
    });

    // Purchase: useRequest({ url: '/api/orders', method: 'post', body: { ticketId } }), once replicated.
    let ordered: Awaited<ReturnType<typeof buyer.send>> | undefined;
    await waitFor(async () => {
      ordered = await buyer.send('POST', '/api/orders', { ticketId });
      return ordered.status === 201;
    });
    expect(ordered!.body).toMatchObject({
      id: expect.any(String),
      status: 'created',
      expiresAt: expect.any(String),
      ticket: { id: ticketId, title: 'Original client night', price: 20 },
    });
    const orderId = ordered!.body.id as string;

    // orders/[orderId]: GET /api/orders/:id → order.expiresAt for the countdown, order.ticket.price.
    const order = await buyer.render(`/api/orders/${orderId}`);
    expect(order).toMatchObject({
      status: 200,
      body: { id: orderId, expiresAt: expect.any(String), ticket: { price: 20 } },
    });

    // StripeCheckout's token: useRequest({ url: '/api/payments', method: 'post', body: { orderId } }) + { token }.
    let paid: Awaited<ReturnType<typeof buyer.send>> | undefined;
    await waitFor(async () => {
      paid = await buyer.send('POST', '/api/payments', { token: 'tok_visa', orderId });
      return paid.status === 201;
    });
    expect(paid!.body).toMatchObject({ id: expect.any(String) });

    // orders/index: GET /api/orders → orders.map(order => order.ticket.title, order.status)
    await waitFor(async () => {
      const list = (await buyer.render('/api/orders')).body as {
        id: string;
        status: string;
        ticket: { title: string };
      }[];
      return list.some(
        (o) => o.id === orderId && o.status === 'complete' && o.ticket.title === 'Original client night',
      );
    });

    // auth/signout: useRequest({ url: '/api/users/signout', method: 'post', body: {} }) → then currentUser null.
    expect((await buyer.send('POST', '/api/users/signout', {})).status).toBe(200);
    expect(await buyer.render('/api/users/currentuser')).toEqual({
      status: 200,
      body: { currentUser: null },
    });

    // auth/signin, as signup.
    const signedIn = await seller.send('POST', '/api/users/signin', {
      email: signedUp.body.email as string,
      password: 'correct horse',
    });
    expect(signedIn).toMatchObject({ status: 200, body: { id: signedUp.body.id } });
  });

  it('shows that client the errors it renders: err.response.data.errors, each with a message', async () => {
    const seller = browser();
    await seller.send('POST', '/api/users/signup', {
      email: `x-${randomUUID()}@example.test`,
      password: 'correct horse',
    });
    for (const [body, field] of [
      [{ title: '', price: '20.00' }, 'title'],
      [{ title: 'A show', price: 'abc' }, 'price'],
      [{ title: 'A show', price: '20.001' }, 'price'],
    ] as const) {
      const refused = await seller.send('POST', '/api/tickets', body);
      expect(refused.status).toBe(400);
      const errors = refused.body.errors as { message: string; field?: string }[];
      expect(errors).toEqual([{ message: expect.any(String), field }]);
    }
  });
});
