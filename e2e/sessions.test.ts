/**
 * Sessions end for every service, end to end: a signed-out (or signed-out-everywhere) cookie is
 * refused by the tickets, orders and payments routes within a second, wherever a copy of it is, in
 * the one-process marketplace (in-process bus) and with one process per service (JetStream). An
 * idle session ends after the idle timeout; an active one is renewed (same session) until the
 * absolute timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@ticketing/common/testing';
import { checkedFetch, startOneProcess, startProcesses, type Router, type System } from './support.ts';

const PASSWORD = 'correct horse';
const DECLINED = 'tok_chargeDeclined';

/** A browser: one cookie jar, kept as the server sets and renews it. */
class Browser {
  cookie = '';
  email = `user-${crypto.randomUUID()}@example.test`;
  constructor(readonly route: Router) {}

  async request<T = unknown>(method: string, path: string, body?: unknown) {
    const response = await checkedFetch(this.route(path) + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = response.headers.getSetCookie().find((cookie) => cookie.startsWith('session='));
    if (set !== undefined) {
      const pair = set.split(';')[0]!;
      this.cookie = pair === 'session=' ? '' : pair;
    }
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, set };
  }

  /** Another holder of the same cookie (a second tab, or whoever stole it). */
  copy(): Browser {
    const copy = new Browser(this.route);
    copy.cookie = this.cookie;
    copy.email = this.email;
    return copy;
  }

  static async signUp(route: Router): Promise<Browser> {
    const browser = new Browser(route);
    const { status } = await browser.request('POST', '/api/users/signup', {
      email: browser.email,
      password: PASSWORD,
    });
    expect(status).toBe(201);
    return browser;
  }

  /** A new session of the same user, as on another device. */
  async signInElsewhere(): Promise<Browser> {
    const other = new Browser(this.route);
    other.email = this.email;
    const { status } = await other.request('POST', '/api/users/signin', {
      email: this.email,
      password: PASSWORD,
    });
    expect(status).toBe(200);
    return other;
  }

  /** The claims of the current session cookie. */
  get claims(): { sid: string; started: number; exp: number; iat: number } {
    return JSON.parse(Buffer.from(this.cookie.split('.')[1]!, 'base64url').toString()) as never;
  }
}

/** A buyer with an order awaiting payment: someone every service has something to answer. */
async function aBuyer(route: Router): Promise<{ buyer: Browser; orderId: string }> {
  const seller = await Browser.signUp(route);
  const ticket = await seller.request<{ id: string }>('POST', '/api/tickets', {
    title: 'Concert',
    price: 20,
  });
  expect(ticket.status).toBe(201);
  const buyer = await Browser.signUp(route);
  // The orders service learns of the ticket within milliseconds.
  const orderId = await waitFor(async () => {
    const order = await buyer.request<{ id: string }>('POST', '/api/orders', { ticketId: ticket.body.id });
    return order.status === 201 ? order.body.id : undefined;
  });
  // Payable once the payments service knows the order as confirmed: a declined card then says so.
  await waitFor(async () => {
    const payment = await buyer.request<{ errors: { message: string }[] }>('POST', '/api/payments', {
      orderId,
      token: DECLINED,
    });
    return payment.status === 400 && payment.body.errors[0]!.message === 'Your card was declined.';
  }, 15_000);
  return { buyer, orderId };
}

/** What the tickets, orders and payments routes answer `browser`. */
async function answers(browser: Browser, orderId: string) {
  const [tickets, orders, payments] = await Promise.all([
    browser.request('GET', '/api/tickets/mine'),
    browser.request('GET', '/api/orders'),
    browser.request('POST', '/api/payments', { orderId, token: DECLINED }),
  ]);
  return { tickets: tickets.status, orders: orders.status, payments: payments.status };
}
const SIGNED_IN = { tickets: 200, orders: 200, payments: 400 };
const REFUSED = { tickets: 401, orders: 401, payments: 401 };

/** Waits until every service refuses `browser`; how long that took after `since`, in ms. */
async function refusedWithin(browser: Browser, orderId: string, since: number): Promise<number> {
  await waitFor(
    async () => JSON.stringify(await answers(browser, orderId)) === JSON.stringify(REFUSED),
    1_000,
    10,
  );
  return Date.now() - since;
}

async function currentUser(browser: Browser) {
  return (await browser.request<{ currentUser: unknown }>('GET', '/api/users/currentuser')).body.currentUser;
}

/** Short, for the idle tests; long enough that a busy machine does not idle out the others. */
const IDLE_SECONDS = 6;

/**
 * Starts `system` with the contract of every service's API already read: the first response of an
 * origin waits for its document, which may take longer than a short idle timeout.
 */
async function started(system: Promise<System>): Promise<System> {
  const ready = await system;
  const visitor = new Browser(ready.route);
  for (const path of ['/api/users/currentuser', '/api/tickets', '/api/orders', '/api/payments/config'])
    await visitor.request('GET', path);
  return ready;
}

function sessionSuite(start: () => Promise<System>) {
  let system: System;
  beforeAll(async () => (system = await started(start())), 120_000);
  afterAll(() => system?.stop());

  it('refuses a signed-out cookie in every service within a second, and never renews it', async () => {
    const { buyer, orderId } = await aBuyer(system.route);
    const stolen = buyer.copy();
    expect(await answers(stolen, orderId)).toEqual(SIGNED_IN);

    const signOut = await buyer.request('POST', '/api/users/signout');
    expect(signOut.status).toBe(200);
    expect(buyer.cookie).toBe('');
    const ms = await refusedWithin(stolen, orderId, Date.now());
    expect(ms).toBeLessThan(1_000);
    expect(await currentUser(stolen)).toBeNull();
    // Nothing gave the refused cookie a new life.
    const again = await stolen.request('GET', '/api/orders');
    expect(again.status).toBe(401);
    expect(again.set).toBeUndefined();
  });

  it('signs out everywhere: every earlier session of the user, not other users, nor a later sign-in', async () => {
    const other = await aBuyer(system.route);
    const { buyer, orderId } = await aBuyer(system.route);
    const laptop = await buyer.signInElsewhere();
    const stolen = buyer.copy();
    for (const browser of [buyer, laptop, stolen]) expect(await answers(browser, orderId)).toEqual(SIGNED_IN);

    const everywhere = await buyer.request('POST', '/api/users/signout-everywhere');
    expect(everywhere.status).toBe(200);
    expect(buyer.cookie).toBe('');
    const since = Date.now();
    for (const browser of [laptop, stolen])
      expect(await refusedWithin(browser, orderId, since)).toBeLessThan(1_000);
    expect(await currentUser(laptop)).toBeNull();

    expect(await answers(other.buyer, other.orderId)).toEqual(SIGNED_IN);
    const later = await buyer.signInElsewhere();
    expect(await answers(later, orderId)).toEqual(SIGNED_IN);
  });

  it('without signing out: refuses without a cookie, and answers the same after the refusals', async () => {
    const { buyer, orderId } = await aBuyer(system.route);
    expect(await answers(new Browser(system.route), orderId)).toEqual(REFUSED);
    expect(await answers(buyer, orderId)).toEqual(SIGNED_IN);
  });

  it('ends a session left idle for the idle timeout, in every service', async () => {
    const { buyer, orderId } = await aBuyer(system.route);
    await sleep(IDLE_SECONDS * 1000 + 100);
    expect(await answers(buyer, orderId)).toEqual(REFUSED);
    expect(await currentUser(buyer)).toBeNull();
  });

  it('keeps an active session past the idle timeout: every service renews it, as the same session', async () => {
    const { buyer, orderId } = await aBuyer(system.route);
    const { sid, started } = buyer.claims;
    const signedUpAt = Date.now();
    const requests = [
      ['tickets', 'GET', '/api/tickets/mine', undefined, 200],
      ['orders', 'GET', '/api/orders', undefined, 200],
      ['payments', 'POST', '/api/payments', { orderId, token: DECLINED }, 400],
    ] as const;
    for (const [service, method, path, body, status] of requests) {
      // Once the cookie is past half of its idle window, the next request renews it.
      await sleep(Math.max(0, buyer.claims.exp * 1000 - (IDLE_SECONDS * 1000) / 2 - Date.now()) + 50);
      const before = buyer.claims;
      const response = await buyer.request(method, path, body);
      expect(response.status, service).toBe(status);
      expect(response.set, `${service} renews the cookie`).toBeDefined();
      expect(buyer.claims, service).toMatchObject({ sid, started });
      expect(buyer.claims.exp, service).toBeGreaterThan(before.exp);
    }
    expect(Date.now() - signedUpAt).toBeGreaterThan(IDLE_SECONDS * 1000);
    expect(await answers(buyer, orderId)).toEqual(SIGNED_IN);
    // The renewed cookie is the same session: signing out ends it too.
    const renewed = buyer.copy();
    await buyer.request('POST', '/api/users/signout');
    expect(await refusedWithin(renewed, orderId, Date.now())).toBeLessThan(1_000);
  });
}

describe('sessions, one process, in-process bus', () => {
  sessionSuite(() =>
    startOneProcess({ sessionLifetimes: { idleSeconds: IDLE_SECONDS, absoluteSeconds: 3600 } }),
  );
});

const natsUrl = process.env.NATS_URL;
describe.runIf(natsUrl)('sessions, one process per service, JetStream', () => {
  sessionSuite(() =>
    startProcesses(natsUrl!, {
      env: { SESSION_IDLE_SECONDS: String(IDLE_SECONDS), SESSION_MAX_AGE_SECONDS: '3600' },
    }),
  );
});
if (!natsUrl)
  console.warn('JetStream end-to-end tests skipped: set NATS_URL (e.g. nats://127.0.0.1:4222) to run them');

describe('the absolute session timeout, one process', () => {
  const ABSOLUTE_SECONDS = 12;
  let system: System;
  beforeAll(
    async () =>
      (system = await started(
        startOneProcess({ sessionLifetimes: { idleSeconds: 4, absoluteSeconds: ABSOLUTE_SECONDS } }),
      )),
    120_000,
  );
  afterAll(() => system?.stop());

  it('ends even an active session at its absolute limit, and never renews it past that', async () => {
    const { buyer, orderId } = await aBuyer(system.route);
    const { started } = buyer.claims;
    // A token's `exp` is in whole seconds: the session ends at its limit, rounded down to the second.
    const limit = Math.floor((started + ABSOLUTE_SECONDS * 1000) / 1000) * 1000;
    while (Date.now() < limit - 300) {
      const status = (await buyer.request('GET', '/api/orders')).status;
      // Answered before the limit, it was decided before it: it must be served. (On a busy machine
      // a request sent before the limit can be answered after it, and refused, rightly.)
      if (Date.now() < limit) expect(status).toBe(200);
      expect(buyer.claims.exp * 1000).toBeLessThanOrEqual(limit);
      await sleep(400);
    }
    await sleep(Math.max(0, limit - Date.now()) + 50);
    expect(await answers(buyer, orderId)).toEqual(REFUSED);
  });
});
