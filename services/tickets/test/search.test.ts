import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aTicket, startTickets } from './fixtures.ts';

type Ticket = {
  id: string;
  title: string;
  price: number;
  venue?: string;
  city?: string;
  startsAt?: string;
};

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

/** The next page's address from a response's `Link` header; undefined on the last page. */
const nextOf = (link: string | string[] | number | undefined) =>
  typeof link === 'string' ? /^<(\/api\/tickets\?[^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;

/** Every page of a search, following the `Link` headers. */
async function allPages(t: ServiceHarness, url: string): Promise<Ticket[][]> {
  const pages: Ticket[][] = [];
  for (let next: string | undefined = url; next;) {
    const response = await t.app.inject({ url: next });
    expect(response.statusCode, response.body).toBe(200);
    pages.push(response.json<Ticket[]>());
    next = nextOf(response.headers.link);
  }
  return pages;
}

const titles = (tickets: Ticket[]) => tickets.map((ticket) => ticket.title);

describe('GET /api/tickets: search, filters and sorts', () => {
  let t: ServiceHarness;
  beforeAll(async () => {
    t = await startTickets();
    const { cookie } = await t.signIn();
    const list = (title: string, price: number, event: Partial<Ticket> = {}) =>
      aTicket(t, { cookie, title, price, ...event });
    await list('Orchestre de Paris: Mahler 5', 60, {
      venue: 'Philharmonie',
      city: 'Paris',
      startsAt: inDays(3),
    });
    await list('Café Tacvba live', 45, { venue: 'Olympia', city: 'Paris', startsAt: inDays(10) });
    await list('Mahler Symphony No. 2', 80, {
      venue: 'Concertgebouw',
      city: 'Amsterdam',
      startsAt: inDays(20),
    });
    await list('Jazz à Vienne', 35, { venue: 'Théâtre Antique', city: 'Vienne', startsAt: inDays(40) });
    await list('Stand-up night', 15, { venue: 'Le Café de la Gare', city: 'Paris' });
    await list('Mystery gig', 25);
    await list('Opera gala', 120, { venue: 'Opéra Garnier', city: 'PARIS', startsAt: inDays(5) });
  });
  afterAll(() => t.close());

  const search = async (query: string) => {
    const response = await t.app.inject({ url: `/api/tickets?${query}` });
    expect(response.statusCode, response.body).toBe(200);
    return titles(response.json<Ticket[]>());
  };

  it('shows the event on every ticket: venue, city and start', async () => {
    const [ticket] = (await t.app.inject({ url: '/api/tickets?q=gala' })).json<Ticket[]>();
    expect(ticket).toMatchObject({ venue: 'Opéra Garnier', city: 'PARIS', startsAt: expect.any(String) });
    const [undated] = (await t.app.inject({ url: '/api/tickets?q=mystery' })).json<Ticket[]>();
    expect(undated).not.toHaveProperty('venue');
    expect(undated).not.toHaveProperty('startsAt');
  });

  it('finds words of the title or venue whatever their case, accents and order', async () => {
    expect(await search('q=mahler')).toEqual(['Mahler Symphony No. 2', 'Orchestre de Paris: Mahler 5']);
    expect(await search('q=MAHLER%20orchestre')).toEqual(['Orchestre de Paris: Mahler 5']);
    expect(await search('q=cafe')).toEqual(['Stand-up night', 'Café Tacvba live']);
    expect(await search('q=theatre%20jazz')).toEqual(['Jazz à Vienne']);
    expect(await search('q=opéra')).toEqual(['Opera gala']);
  });

  it('matches the start of a word, as it is typed', async () => {
    expect(await search('q=olym')).toEqual(['Café Tacvba live']);
    expect(await search('q=symph%20mah')).toEqual(['Mahler Symphony No. 2']);
    expect(await search('q=zzz')).toEqual([]);
  });

  it('takes punctuation in q as a space, and q of none of its words as no search', async () => {
    expect(await search('q=mahler%3A%20(orchestre)%20%26!')).toEqual(['Orchestre de Paris: Mahler 5']);
    expect(await search('q=%26%7C!%3A*')).toHaveLength(7);
    expect(await search('q=')).toHaveLength(7);
  });

  it('filters by city, case and accents aside', async () => {
    expect(await search('city=paris')).toEqual([
      'Opera gala',
      'Stand-up night',
      'Café Tacvba live',
      'Orchestre de Paris: Mahler 5',
    ]);
    expect(await search('city=AMSTERDAM')).toEqual(['Mahler Symphony No. 2']);
    expect(await search('city=Lyon')).toEqual([]);
  });

  it('filters by the start, leaving out tickets without one', async () => {
    expect(await search(`from=${inDays(4)}&to=${inDays(30)}`)).toEqual([
      'Opera gala',
      'Mahler Symphony No. 2',
      'Café Tacvba live',
    ]);
    expect(await search(`from=${inDays(30)}`)).toEqual(['Jazz à Vienne']);
    expect(await search(`to=${inDays(4)}`)).toEqual(['Orchestre de Paris: Mahler 5']);
  });

  it('filters by price, both bounds included', async () => {
    expect(await search('minPrice=45&maxPrice=80')).toEqual([
      'Mahler Symphony No. 2',
      'Café Tacvba live',
      'Orchestre de Paris: Mahler 5',
    ]);
    expect(await search('maxPrice=20')).toEqual(['Stand-up night']);
    expect(await search('minPrice=100.5')).toEqual(['Opera gala']);
  });

  it('sorts by price, cheapest first, and by start, soonest first with undated tickets last', async () => {
    expect(await search('sort=price')).toEqual([
      'Stand-up night',
      'Mystery gig',
      'Jazz à Vienne',
      'Café Tacvba live',
      'Orchestre de Paris: Mahler 5',
      'Mahler Symphony No. 2',
      'Opera gala',
    ]);
    const bySoonest = await search('sort=startsAt');
    expect(bySoonest.slice(0, 5)).toEqual([
      'Orchestre de Paris: Mahler 5',
      'Opera gala',
      'Café Tacvba live',
      'Mahler Symphony No. 2',
      'Jazz à Vienne',
    ]);
    expect(new Set(bySoonest.slice(5))).toEqual(new Set(['Stand-up night', 'Mystery gig']));
  });

  it('combines every filter with every sort', async () => {
    expect(await search('q=mahler&city=paris&sort=price')).toEqual(['Orchestre de Paris: Mahler 5']);
    expect(await search(`city=paris&maxPrice=100&from=${inDays(1)}&sort=startsAt`)).toEqual([
      'Orchestre de Paris: Mahler 5',
      'Café Tacvba live',
    ]);
    expect(await search('q=cafe&city=paris&minPrice=20&sort=newest')).toEqual(['Café Tacvba live']);
  });

  it.each(['newest', 'price', 'startsAt'])(
    'pages sort=%s one ticket at a time, each page linking to the next with the same filters',
    async (sort) => {
      const whole = await search(`sort=${sort}&city=paris`);
      const pages = await allPages(t, `/api/tickets?sort=${sort}&city=paris&limit=1`);
      expect(pages.map((page) => page.length)).toEqual(whole.map(() => 1));
      expect(pages.flat().map((ticket) => ticket.title)).toEqual(whole);
      const first = await t.app.inject({ url: `/api/tickets?sort=${sort}&city=paris&limit=1` });
      const next = new URL(nextOf(first.headers.link)!, 'http://x');
      expect(Object.fromEntries(next.searchParams)).toEqual({
        city: 'paris',
        cursor: expect.any(String),
        limit: '1',
        sort,
      });
    },
  );
});

describe('GET /api/tickets: pages stay whole while listings come and go', () => {
  let t: ServiceHarness;
  let cookie: string;
  beforeAll(async () => {
    t = await startTickets();
    ({ cookie } = await t.signIn());
  });
  afterAll(() => t.close());

  it.each(['newest', 'price', 'startsAt'])(
    'sort=%s: no ticket twice, none present throughout missed',
    async (sort) => {
      const tag = `batch${sort.toLowerCase()}`;
      const ids: string[] = [];
      for (let i = 0; i < 9; i++) {
        const { ticket } = await aTicket(t, {
          cookie,
          title: `${tag} ${i}`,
          price: 10 + (i % 3),
          startsAt: inDays(1 + (i % 4)),
        });
        ids.push(ticket.id);
      }
      const seen: string[] = [];
      let next: string | undefined = `/api/tickets?q=${tag}&sort=${sort}&limit=3`;
      let round = 0;
      while (next) {
        const response = await t.app.inject({ url: next });
        seen.push(...response.json<Ticket[]>().map((ticket) => ticket.id));
        next = nextOf(response.headers.link);
        // Between pages: a new listing at every position, and one not yet seen withdrawn.
        await aTicket(t, {
          cookie,
          title: `${tag} new ${round}`,
          price: 10 + round,
          startsAt: inDays(1 + round),
        });
        const withdrawn = ids.find((id) => !seen.includes(id) && id !== ids[0]);
        if (withdrawn && round === 0) {
          await t.app.inject({
            method: 'DELETE',
            url: `/api/tickets/${withdrawn}/listing`,
            headers: { cookie },
          });
          ids.splice(ids.indexOf(withdrawn), 1);
        }
        round++;
      }
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of ids) expect(seen).toContain(id);
    },
  );
});

describe('GET /api/tickets: what it refuses', () => {
  let t: ServiceHarness;
  beforeAll(async () => {
    t = await startTickets();
  });
  afterAll(() => t.close());

  it.each([
    ['colour=red', 'colour'],
    ['sort=cheapest', 'sort'],
    ['minPrice=abc', 'minPrice'],
    ['maxPrice=-1', 'maxPrice'],
    ['minPrice=1.001', 'minPrice'],
    ['from=tomorrow', 'from'],
    ['to=2026-13-01T00:00:00Z', 'to'],
    [`q=${'a '.repeat(9)}`, 'q'],
    [`city=${'x'.repeat(101)}`, 'city'],
    ['minPrice=50&maxPrice=20', 'maxPrice'],
    ['from=2027-02-01T00:00:00Z&to=2027-01-01T00:00:00Z', 'to'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const response = await t.app.inject({ url: `/api/tickets?${query}` });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errors.map((e: { field?: string }) => e.field)).toContain(field);
  });

  it('refuses a cursor of another sort, saying which', async () => {
    const { cookie } = await t.signIn();
    for (let i = 0; i < 3; i++) await aTicket(t, { cookie, title: `x ${i}` });
    const first = await t.app.inject({ url: '/api/tickets?sort=price&limit=1' });
    const cursor = new URL(nextOf(first.headers.link)!, 'http://x').searchParams.get('cursor');
    const response = await t.app.inject({ url: `/api/tickets?sort=newest&cursor=${cursor}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      errors: [{ message: 'cursor is for sort=price, not sort=newest', field: 'cursor' }],
    });
  });

  it('refuses a price cursor whose key is not a price', async () => {
    const forged = Buffer.from(JSON.stringify(['price', 'cheap', '03497ad9-224c-4119-b497-7512ebafc79a']));
    const response = await t.app.inject({
      url: `/api/tickets?sort=price&cursor=${forged.toString('base64url')}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('cursor');
  });
});

describe('a ticket names its event', () => {
  let t: ServiceHarness;
  beforeAll(async () => {
    t = await startTickets();
  });
  afterAll(() => t.close());

  const create = async (payload: object) => {
    const { cookie } = await t.signIn();
    return t.app.inject({ method: 'POST', url: '/api/tickets', headers: { cookie }, payload });
  };

  it('keeps venue, city and start, trimmed, the start in UTC, and announces them', async () => {
    const response = await create({
      title: 'Nuit Blanche',
      price: 30,
      venue: '  Le Trianon ',
      city: 'Paris',
      startsAt: '2030-06-01T21:30:00+02:00',
    });
    expect(response.statusCode, response.body).toBe(201);
    const ticket = response.json<Ticket>();
    expect(ticket).toMatchObject({
      venue: 'Le Trianon',
      city: 'Paris',
      startsAt: '2030-06-01T19:30:00.000Z',
    });
    const [created] = (await t.outbox('ticket:created')).filter((e) => e.data.id === ticket.id);
    expect(created!.data).toMatchObject({
      venue: 'Le Trianon',
      city: 'Paris',
      startsAt: '2030-06-01T19:30:00.000Z',
    });
  });

  it.each([
    [{ startsAt: '2020-01-01T00:00:00Z' }, 'startsAt', 'startsAt must be in the future'],
    [{ startsAt: 'next friday' }, 'startsAt', undefined],
    [{ venue: '   ' }, 'venue', 'venue must not be empty'],
    [{ venue: 'x'.repeat(201) }, 'venue', undefined],
    [{ city: 'Par\u202Eis' }, 'city', undefined],
  ])('refuses %j with 400 on %s', async (event, field, message) => {
    const response = await create({ title: 'a show', price: 10, ...event });
    expect(response.statusCode, response.body).toBe(400);
    const error = response.json().errors.find((e: { field?: string }) => e.field === field);
    expect(error).toBeDefined();
    if (message) expect(error.message).toBe(message);
  });

  it('keeps what an edit leaves out, and fixes the event once sold', async () => {
    const { cookie } = await t.signIn();
    const { ticket } = await aTicket(t, { cookie, venue: 'Zénith', city: 'Lille', startsAt: inDays(9) });
    const edit = (payload: object) =>
      t.app.inject({ method: 'PUT', url: `/api/tickets/${ticket.id}`, headers: { cookie }, payload });
    const edited = await edit({ title: 'concert', price: 25 });
    expect(edited.json()).toMatchObject({
      venue: 'Zénith',
      city: 'Lille',
      startsAt: ticket.startsAt,
      price: 25,
    });
    const moved = await edit({ title: 'concert', price: 25, startsAt: inDays(10), city: 'Lyon' });
    expect(moved.json()).toMatchObject({
      city: 'Lyon',
      startsAt: expect.not.stringMatching(ticket.startsAt!),
    });
    await t.database.db.execute(sql`update tickets set times_sold = 1 where id = ${ticket.id}`);
    const refused = await edit({ title: 'concert', price: 25, city: 'Paris', startsAt: inDays(11) });
    expect(refused.statusCode).toBe(400);
    expect(
      refused
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['city', 'startsAt']);
    expect((await edit({ title: 'concert', price: 20, city: 'Lyon' })).statusCode).toBe(200);
  });
});

describe('the price as decimal text, as the original course app sends it', () => {
  let t: ServiceHarness;
  let cookie: string;
  beforeAll(async () => {
    t = await startTickets();
    ({ cookie } = await t.signIn());
  });
  afterAll(() => t.close());

  const create = (price: unknown, faceValue?: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/api/tickets',
      headers: { cookie },
      payload: { title: 'concert', price, ...(faceValue === undefined ? {} : { faceValue }) },
    });

  it.each([
    ['20.00', 20],
    ['20', 20],
    ['20.5', 20.5],
    ['0.01', 0.01],
    ['19.99', 19.99],
    ['1000000', 1_000_000],
  ])('takes "%s" as %d, exactly', async (text, price) => {
    const response = await create(text);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().price).toBe(price);
  });

  it.each(['20.001', 'abc', '-5', '1e3', ' 20', '', '0', '0.00', '1000000.01', '20,00'])(
    'refuses "%s" with 400 on price',
    async (text) => {
      const response = await create(text);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors.map((e: { field?: string }) => e.field)).toContain('price');
    },
  );

  it('caps a price given as text like one given as a number', async () => {
    const response = await create('30.00', '25.00');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0]).toEqual({
      message: 'price must be at most 25.00: its face value, 25.00',
      field: 'price',
    });
  });

  it('takes decimal text on an edit and a listing too', async () => {
    const { ticket } = await aTicket(t, { cookie, price: 10 });
    const edited = await t.app.inject({
      method: 'PUT',
      url: `/api/tickets/${ticket.id}`,
      headers: { cookie },
      payload: { title: 'concert', price: '12.50' },
    });
    expect(edited.json().price).toBe(12.5);
    const listed = await t.app.inject({
      method: 'POST',
      url: `/api/tickets/${ticket.id}/listing`,
      headers: { cookie },
      payload: { price: '11.00' },
    });
    expect(listed.json().price).toBe(11);
  });
});
