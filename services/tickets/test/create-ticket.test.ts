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
    [{ title: 'concert', price: '10.001' }, 'price'],
    [{ title: 'concert', price: true }, 'price'],
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

  // What would let one listing pass for another: reordered, hidden or broken-up text.
  it.each([
    ['a right-to-left override', 'Concert \u202Etsiv', 'U+202E'],
    ['a left-to-right embedding', '\u202AConcert', 'U+202A'],
    ['a directional isolate', 'Concert \u2067A\u2069', 'U+2067'],
    ['a right-to-left mark', 'Concert\u200F', 'U+200F'],
    ['a zero-width space', 'Con\u200Bcert', 'U+200B'],
    ['a zero-width non-joiner', 'Con\u200Ccert', 'U+200C'],
    ['a zero-width joiner between letters', 'Con\u200Dcert', 'U+200D'],
    ['a zero-width joiner after an emoji, before a letter', '🎫\u200Dconcert', 'U+200D'],
    ['a word joiner', 'Con\u2060cert', 'U+2060'],
    ['a byte order mark inside', 'Con\uFEFFcert', 'U+FEFF'],
    ['a soft hyphen', 'Con\u00ADcert', 'U+00AD'],
    ['a line feed', 'Concert\nFriday', 'U+000A'],
    ['a carriage return', 'Concert\r\nFriday', 'U+000D'],
    ['a tab', 'Concert\tFriday', 'U+0009'],
    ['a line separator', 'Concert\u2028Friday', 'U+2028'],
    ['a paragraph separator', 'Concert\u2029Friday', 'U+2029'],
    ['a C1 control', 'Concert\u0085', 'U+0085'],
    ['a DEL', 'Concert\u007F', 'U+007F'],
    ['a Hangul filler', 'Concert\u3164', 'U+3164'],
    ['tag characters outside a flag', 'Concert\u{E0067}\u{E0062}', 'U+E0067'],
  ])('refuses a title with %s: 400 on title, saying which character', async (_case, title, character) => {
    const response = await post({ title, price: 10 });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      errors: [
        {
          message: `title must not contain line breaks, control characters, invisible characters or text direction controls (it has ${character})`,
          field: 'title',
        },
      ],
    });
  });

  it.each([
    ['accents', 'Café Müller — Señor Coconut à l’Olympia'],
    ['Chinese, Japanese and Korean', '周杰伦 演唱会 · 東京ドーム · 방탄소년단'],
    ['right-to-left scripts', 'فيروز في بيت الدين · עומר אדם'],
    ['Devanagari', 'अरिजीत सिंह लाइव'],
    ['emoji', 'Rock 🎸 night 🎫🔥'],
    ['emoji ZWJ sequences', 'Family 👨‍👩‍👧 day, 🏳️‍🌈 pride, 👩🏽‍💻 meetup, 🏃‍♂️ run, ❤️‍🔥 gig'],
    ['flags, a keycap and a tag sequence', 'Ireland 🇮🇪 v England 🏴󠁧󠁢󠁥󠁮󠁧󠁿, row 1️⃣'],
    ['ordinary spaces inside, no-break ones too', 'Front\u00A0row  seats'],
  ])('keeps ordinary Unicode in a title: %s', async (_case, title) => {
    const response = await post({ title, price: 10 });
    expect(response.statusCode).toBe(201);
    expect(response.json().title).toBe(title);
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
