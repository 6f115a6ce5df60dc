import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionRevokedListener } from '@ticketing/common';
import { waitFor, type ServiceHarness } from '@ticketing/common/testing';
import { aTicket, startTickets } from './fixtures.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;

describe('session:revoked listener', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startTickets()));
  afterAll(() => t.close());
  const mine = (cookie: string) => t.app.inject({ url: '/api/tickets/mine', headers: { cookie } });
  const revoked = (userId: string, sessionId?: string, at = Date.now()) => ({
    userId,
    ...(sessionId === undefined ? {} : { sessionId }),
    revokedAt: new Date(at).toISOString(),
    expiresAt: new Date(at + WEEK_MS).toISOString(),
  });

  it('refuses the revoked session on signed-in routes, once recorded, and only it', async () => {
    const { user, cookie, sessionId } = await t.signIn();
    const { cookie: other } = await t.signIn({ id: user.id, email: user.email });
    await aTicket(t, { cookie });
    expect((await mine(cookie)).statusCode).toBe(200);

    expect(await t.deliver(sessionRevokedListener, revoked(user.id, sessionId))).toEqual({ kind: 'ack' });
    await waitFor(async () => (await mine(cookie)).statusCode === 401, 1_000, 5);
    expect((await mine(other)).statusCode).toBe(200);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/tickets',
      headers: { cookie },
      payload: { title: 'concert', price: 20 },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ errors: [{ message: 'Not authorized' }] });
  });

  it('refuses every session of the user begun before a sign-out everywhere', async () => {
    const { user, cookie } = await t.signIn();
    const stranger = await t.signIn();
    await t.deliver(sessionRevokedListener, revoked(user.id, undefined, Date.now() + 1));
    await waitFor(async () => (await mine(cookie)).statusCode === 401, 1_000, 5);
    expect((await mine(stranger.cookie)).statusCode).toBe(200);
    // A session begun after the cutoff is not touched by it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const { cookie: later } = await t.signIn({ id: user.id, email: user.email });
    expect((await mine(later)).statusCode).toBe(200);
  });

  it('is idempotent: a redelivery adds nothing', async () => {
    const { user, sessionId } = await t.signIn();
    const event = {
      id: randomUUID(),
      type: 'session:revoked' as const,
      occurredAt: new Date().toISOString(),
      data: revoked(user.id, sessionId),
    };
    for (let i = 0; i < 3; i++)
      expect(await t.deliver(sessionRevokedListener, event)).toEqual({ kind: 'ack' });
    const { rows } = await t.database.pool.query(
      'select count(*)::int as n from session_revocations where user_id = $1',
      [user.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('keeps refusing after a restart', async () => {
    const { user, cookie, sessionId } = await t.signIn();
    await t.deliver(sessionRevokedListener, revoked(user.id, sessionId));
    await t.restart();
    expect((await mine(cookie)).statusCode).toBe(401);
    expect((await mine((await t.signIn()).cookie)).statusCode).toBe(200);
  });
});
