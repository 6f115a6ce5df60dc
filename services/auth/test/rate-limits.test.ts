/**
 * The limits of sign-in and sign-up: per client address, per account (a backoff), the general
 * ceiling, the 429 they answer, and the counts shared by two servers on one database (two
 * replicas). The limits are set small here, explicitly; the other auth tests raise them.
 */
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createServiceHarness, createTestDatabase, type ServiceHarness } from '@ticketing/common/testing';
import * as passwords from '../src/domain/passwords.ts';
import { authService, type AuthSettings } from '../src/service.ts';
import { aNewEmail, aUser, PASSWORD, ROOMY_LIMITS } from './fixtures.ts';

vi.mock('../src/domain/passwords.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/domain/passwords.ts')>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});
const verify = vi.mocked(passwords.verifyPassword);
// No scrypt in these sign-ins, so that the waits of a second are not spent hashing on a busy
// machine; the spy still tells whether the password would have been hashed.
beforeEach(() => {
  verify.mockReset();
  verify.mockImplementation(async (password) => password === PASSWORD);
});

const harnesses: ServiceHarness[] = [];
async function startAuth(
  settings: Partial<AuthSettings>,
  server?: Parameters<typeof createServiceHarness>[1],
): Promise<ServiceHarness> {
  const harness = await createServiceHarness(authService({ ...ROOMY_LIMITS, ...settings }), server);
  harnesses.push(harness);
  return harness;
}
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

const from = (address: string) => ({ remoteAddress: address });
const post = (t: ServiceHarness, url: string, body: object, address = '127.0.0.1', cookie?: string) =>
  t.app.inject({ method: 'POST', url, payload: body, headers: cookie ? { cookie } : {}, ...from(address) });
const signIn = (t: ServiceHarness, email: string, password: string, address?: string, cookie?: string) =>
  post(t, '/api/users/signin', { email, password }, address, cookie);
/** The device cookie a response set, as a `Cookie` header; throws if it set none. */
function deviceCookie(response: Awaited<ReturnType<typeof post>>): string {
  const device = response.cookies.find((c) => c.name === 'device');
  if (!device) throw new Error(`no device cookie: ${JSON.stringify(response.headers['set-cookie'])}`);
  return `device=${device.value}`;
}

function expectTooMany(response: Awaited<ReturnType<typeof post>>, message: RegExp, retryAfter?: number) {
  expect(response.statusCode).toBe(429);
  expect(response.json()).toEqual({ errors: [{ message: expect.stringMatching(message) }] });
  const header = Number(response.headers['retry-after']);
  expect(Number.isInteger(header) && header >= 1).toBe(true);
  if (retryAfter !== undefined) expect(header).toBe(retryAfter);
  expect(response.json<{ errors: { message: string }[] }>().errors[0]!.message).toContain(
    `try again in ${header} second`,
  );
}

describe('sign-in per account', () => {
  it('refuses an account after its free attempts, before any password is hashed, whoever asks', async () => {
    const t = await startAuth({ signInPerAccount: { freeAttempts: 3, maxDelaySeconds: 300 } });
    const { user } = await aUser(t);
    for (let i = 0; i < 3; i++) expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    verify.mockClear();
    // The right password, from another address, with the email written otherwise: still the account.
    const refused = await signIn(t, user.email.toUpperCase(), PASSWORD, '198.51.100.7');
    expectTooMany(refused, /^Too many sign-in attempts for this account/, 1);
    expect(verify).not.toHaveBeenCalled();
    // Another account is not held back.
    const other = await aUser(t);
    expect((await signIn(t, other.user.email, PASSWORD)).statusCode).toBe(200);
  });

  it('counts an unknown email like a known one, so a refusal tells nothing of who has an account', async () => {
    const t = await startAuth({ signInPerAccount: { freeAttempts: 2, maxDelaySeconds: 300 } });
    const { user } = await aUser(t);
    const unknown = aNewEmail();
    for (const email of [user.email, unknown]) {
      for (let i = 0; i < 2; i++) expect((await signIn(t, email, 'wrong password')).statusCode).toBe(400);
      expectTooMany(await signIn(t, email, 'wrong password'), /for this account/, 1);
    }
  });

  it('lets a flood of simultaneous attempts through no further than the free ones', async () => {
    const t = await startAuth({ signInPerAccount: { freeAttempts: 3, maxDelaySeconds: 300 } });
    const { user } = await aUser(t);
    verify.mockClear();
    const statuses = (
      await Promise.all(Array.from({ length: 40 }, () => signIn(t, user.email, 'wrong password')))
    ).map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 400)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(37);
    expect(verify).toHaveBeenCalledTimes(3);
  });
});

describe('the backoff', () => {
  it('makes each attempt past the free ones wait twice as long, up to the cap, and lets the owner in after', async () => {
    const t = await startAuth({ signInPerAccount: { freeAttempts: 2, maxDelaySeconds: 2 } });
    const { user } = await aUser(t);
    expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    expectTooMany(await signIn(t, user.email, PASSWORD), /for this account/, 1);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    // Released: one more attempt, which doubles the wait.
    expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    expectTooMany(await signIn(t, user.email, PASSWORD), /for this account/, 2);
    await new Promise((resolve) => setTimeout(resolve, 2_050));
    expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    // 4 s would be next, but the cap is 2 s.
    expectTooMany(await signIn(t, user.email, PASSWORD), /for this account/, 2);
    await new Promise((resolve) => setTimeout(resolve, 2_050));
    // The owner gets in, and the count starts again: two free attempts.
    expect((await signIn(t, user.email, PASSWORD)).statusCode).toBe(200);
    expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    expect((await signIn(t, user.email, 'wrong password')).statusCode).toBe(400);
    expectTooMany(await signIn(t, user.email, PASSWORD), /for this account/, 1);
  });
});

describe('device cookies', () => {
  const OWNER = '192.0.2.40';
  const GUESSER = '203.0.113.40';

  it('keep the owner in while guesses from elsewhere hold the account: cookie-less attempts wait, the device does not', async () => {
    const t = await startAuth({ signInPerAccount: { freeAttempts: 3, maxDelaySeconds: 300 } });
    const { user } = await aUser(t);
    const signedIn = await signIn(t, user.email, PASSWORD, OWNER);
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.cookies.find((c) => c.name === 'device')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/api/users/signin',
      maxAge: 365 * 86_400,
    });
    expect(signedIn.cookies.find((c) => c.name === 'device')).not.toHaveProperty('secure');
    const device = deviceCookie(signedIn);
    // Someone else guesses at the account until it must wait; even the owner's right password then
    // waits without the cookie.
    for (let i = 0; i < 3; i++)
      expect((await signIn(t, user.email, 'wrong password', GUESSER)).statusCode).toBe(400);
    expectTooMany(await signIn(t, user.email, PASSWORD, OWNER), /for this account/);
    // With it, the owner is in at once, and given a new one.
    verify.mockClear();
    const kept = await signIn(t, user.email, PASSWORD, OWNER, device);
    expect(kept.statusCode).toBe(200);
    expect(kept.json()).toEqual(user);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(kept.cookies.map((c) => c.name)).toEqual(['session', 'device']);
    expect(deviceCookie(kept)).not.toBe(device);
    // Which did not start the account's count over: one more guess at most, and the guesser waits.
    await signIn(t, user.email, 'wrong password', GUESSER);
    expectTooMany(await signIn(t, user.email, 'wrong password', GUESSER), /for this account/);
    // The cookie a sign-up sets does the same.
    const signUp = await post(t, '/api/users/signup', { email: aNewEmail(), password: PASSWORD }, OWNER);
    const email = signUp.json<{ email: string }>().email;
    for (let i = 0; i < 3; i++) await signIn(t, email, 'wrong password', GUESSER);
    expectTooMany(await signIn(t, email, PASSWORD, OWNER), /for this account/);
    expect((await signIn(t, email, PASSWORD, OWNER, deviceCookie(signUp))).statusCode).toBe(200);
  });

  it('give no exemption when tampered with, forged, or for another account', async () => {
    const t = await startAuth({ signInPerAccount: { freeAttempts: 2, maxDelaySeconds: 300 } });
    const { user, cookie: session } = await aUser(t);
    const other = await aUser(t);
    const own = deviceCookie(await signIn(t, user.email, PASSWORD, OWNER));
    const othersDevice = deviceCookie(await signIn(t, other.user.email, PASSWORD, OWNER));
    for (let i = 0; i < 2; i++)
      expect((await signIn(t, user.email, 'wrong password', GUESSER)).statusCode).toBe(400);

    // The other account's cookie, rewritten to name this account, keeping its MAC.
    const [payload, mac] = othersDevice.slice('device='.length).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { account: string };
    const renamed = Buffer.from(JSON.stringify({ ...claims, account: user.email })).toString('base64url');
    // A MAC of this account's claims under another key; a session token (signed with the session key).
    const forgedMac = createHmac('sha256', 'another key').update(renamed).digest('base64url');
    const refused = [
      othersDevice,
      `device=${renamed}.${mac}`,
      `device=${renamed}.${forgedMac}`,
      `device=${renamed}`,
      `device=${session.slice('session='.length)}`,
      `device=${own.slice('device='.length, -2)}`, // its MAC cut short
    ];
    for (const cookie of refused) {
      // A guess just before, so that the account waits now (each counted guess doubles the wait).
      await signIn(t, user.email, 'wrong password', GUESSER);
      expectTooMany(await signIn(t, user.email, PASSWORD, OWNER, cookie), /for this account/);
    }
    // The owner's own cookie still does.
    expect((await signIn(t, user.email, PASSWORD, OWNER, own)).statusCode).toBe(200);
  });

  it('give no exemption once expired', async () => {
    const t = await startAuth({
      signInPerAccount: { freeAttempts: 2, maxDelaySeconds: 300 },
      deviceCookieMaxAgeSeconds: 2,
    });
    const { user } = await aUser(t);
    const signedIn = await signIn(t, user.email, PASSWORD, OWNER);
    expect(signedIn.cookies.find((c) => c.name === 'device')).toMatchObject({ maxAge: 2 });
    const device = deviceCookie(signedIn);
    for (let i = 0; i < 2; i++)
      expect((await signIn(t, user.email, 'wrong password', GUESSER)).statusCode).toBe(400);
    expect((await signIn(t, user.email, PASSWORD, OWNER, device)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3_050));
    // The account's wait is over; one more guess makes it wait again, for the expired cookie too.
    expect((await signIn(t, user.email, 'wrong password', GUESSER)).statusCode).toBe(400);
    expectTooMany(await signIn(t, user.email, PASSWORD, OWNER, device), /for this account/);
  });

  it("hold a device to a backoff of its own, so that a stolen cookie is no free oracle; the account's is untouched", async () => {
    const t = await startAuth({
      signInPerAccount: { freeAttempts: 3, maxDelaySeconds: 300 },
      signInPerDevice: { freeAttempts: 2, maxDelaySeconds: 300 },
    });
    const { user } = await aUser(t);
    const device = deviceCookie(await signIn(t, user.email, PASSWORD, OWNER));
    for (let i = 0; i < 2; i++)
      expect((await signIn(t, user.email, 'wrong password', GUESSER, device)).statusCode).toBe(400);
    verify.mockClear();
    expectTooMany(
      await signIn(t, user.email, PASSWORD, GUESSER, device),
      /^Too many sign-in attempts from this device/,
      1,
    );
    expect(verify).not.toHaveBeenCalled();
    // Those attempts were not the account's: without the cookie, its free attempts are all there.
    for (let i = 0; i < 2; i++)
      expect((await signIn(t, user.email, 'wrong password', GUESSER)).statusCode).toBe(400);
    expect((await signIn(t, user.email, PASSWORD, OWNER)).statusCode).toBe(200);
  });

  it("still count a device's attempts against its address", async () => {
    const t = await startAuth({ signInPerAddress: { max: 3, windowSeconds: 600 } });
    const { user } = await aUser(t);
    const device = deviceCookie(await signIn(t, user.email, PASSWORD, GUESSER));
    for (let i = 0; i < 2; i++)
      expect((await signIn(t, user.email, 'wrong password', GUESSER, device)).statusCode).toBe(400);
    expectTooMany(await signIn(t, user.email, PASSWORD, GUESSER, device), /from this address/);
  });
});

describe('sign-in per address', () => {
  it('refuses an address past its limit whatever the account, before the body is read; other addresses go on', async () => {
    const t = await startAuth({ signInPerAddress: { max: 3, windowSeconds: 600 } });
    for (let i = 0; i < 3; i++)
      expect((await signIn(t, aNewEmail(), 'wrong password', '203.0.113.5')).statusCode).toBe(400);
    verify.mockClear();
    expectTooMany(await signIn(t, aNewEmail(), 'wrong password', '203.0.113.5'), /from this address/);
    // Refused at onRequest: not even a body that breaks the schema gets its 400.
    expectTooMany(await post(t, '/api/users/signin', { nonsense: true }, '203.0.113.5'), /from this address/);
    expect(verify).not.toHaveBeenCalled();
    expect((await signIn(t, aNewEmail(), 'wrong password', '203.0.113.6')).statusCode).toBe(400);
  });

  it('counts an IPv6 host by its /64', async () => {
    const t = await startAuth({ signInPerAddress: { max: 2, windowSeconds: 600 } });
    expect((await signIn(t, aNewEmail(), 'wrong password', '2001:db8:1:2::1')).statusCode).toBe(400);
    expect((await signIn(t, aNewEmail(), 'wrong password', '2001:db8:1:2::ffff')).statusCode).toBe(400);
    expectTooMany(
      await signIn(t, aNewEmail(), 'wrong password', '2001:db8:1:2:abcd::9'),
      /from this address/,
    );
    expect((await signIn(t, aNewEmail(), 'wrong password', '2001:db8:1:3::1')).statusCode).toBe(400);
  });
});

describe('sign-up per address', () => {
  it('refuses an address past its sign-ups for the window, with the wait', async () => {
    const t = await startAuth({ signUpPerAddress: { max: 2, windowSeconds: 3_600 } });
    const signUp = (address: string) =>
      post(t, '/api/users/signup', { email: aNewEmail(), password: PASSWORD }, address);
    expect((await signUp('192.0.2.1')).statusCode).toBe(201);
    expect((await signUp('192.0.2.1')).statusCode).toBe(201);
    const refused = await signUp('192.0.2.1');
    expectTooMany(refused, /^Too many sign-ups from this address; try again in \d+ seconds$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3_590);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3_600);
    expect((await signUp('192.0.2.2')).statusCode).toBe(201);
  });
});

describe('the general ceiling', () => {
  it('refuses any route of the service from an address past it; health checks and docs are not counted', async () => {
    const t = await startAuth(
      {},
      { server: () => ({ rateLimits: { ceiling: { max: 5, windowSeconds: 60 } } }) },
    );
    const current = (address = '192.0.2.10') =>
      t.app.inject({ method: 'GET', url: '/api/users/currentuser', ...from(address) });
    for (let i = 0; i < 5; i++) expect((await current()).statusCode).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await t.app.inject({ method: 'GET', url: '/readyz', ...from('192.0.2.10') })).statusCode).toBe(
        200,
      );
    expectTooMany(await current(), /^Too many requests from this address/);
    expectTooMany(
      await post(t, '/api/users/signup', { email: aNewEmail(), password: PASSWORD }, '192.0.2.10'),
      /^Too many requests from this address/,
    );
    expect((await current('192.0.2.11')).statusCode).toBe(200);
    const docs = await t.app.inject({ method: 'GET', url: '/api/docs/json', ...from('192.0.2.10') });
    expect(docs.statusCode).toBe(200);
    // And the document says so.
    const paths = docs.json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>().paths;
    expect(paths['/api/users/currentuser']!.get!.responses).toHaveProperty('429');
    expect(paths['/api/users/signin']!.post!.responses['429']).toMatchObject({
      headers: { 'retry-after': { schema: { type: 'integer' } } },
    });
  });
});

describe('two servers on one database (two replicas)', () => {
  const shared = createTestDatabase('auth_limits');
  afterAll(async () => (await shared).drop());

  async function twoReplicas(
    settings: Partial<AuthSettings>,
    ceiling?: { max: number; windowSeconds: number },
  ) {
    const database = await shared;
    const server = () => ({ rateLimits: { pool: database.pool, ceiling } });
    return [await startAuth(settings, { database, server }), await startAuth(settings, { database, server })];
  }

  it('share the sign-up count of an address', async () => {
    const [a, b] = await twoReplicas({ signUpPerAddress: { max: 3, windowSeconds: 3_600 } });
    const signUp = (t: ServiceHarness) =>
      post(t, '/api/users/signup', { email: aNewEmail(), password: PASSWORD }, '192.0.2.20');
    expect((await signUp(a!)).statusCode).toBe(201);
    expect((await signUp(a!)).statusCode).toBe(201);
    expect((await signUp(b!)).statusCode).toBe(201);
    expectTooMany(await signUp(b!), /sign-ups from this address/);
    expectTooMany(await signUp(a!), /sign-ups from this address/);
  });

  it("share an account's backoff", async () => {
    const [a, b] = await twoReplicas({ signInPerAccount: { freeAttempts: 2, maxDelaySeconds: 300 } });
    const { user } = await aUser(a!);
    expect((await signIn(a!, user.email, 'wrong password')).statusCode).toBe(400);
    expect((await signIn(b!, user.email, 'wrong password')).statusCode).toBe(400);
    expectTooMany(await signIn(a!, user.email, PASSWORD), /for this account/, 1);
    expectTooMany(await signIn(b!, user.email, PASSWORD), /for this account/, 1);
  });

  it("share the ceiling's count of an address (within a share's 100 ms)", async () => {
    const [a, b] = await twoReplicas({}, { max: 5, windowSeconds: 60 });
    const current = (t: ServiceHarness) =>
      t.app.inject({ method: 'GET', url: '/api/users/currentuser', ...from('192.0.2.30') });
    for (let i = 0; i < 3; i++) expect((await current(a!)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < 2; i++) expect((await current(b!)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // b alone has counted 3 of 5; with a's 3 the address is past the ceiling.
    expectTooMany(await current(b!), /^Too many requests from this address/);
  });
});
