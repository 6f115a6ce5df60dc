import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../src/db/database.ts';
import { makeEvent } from '../src/events/contract.ts';
import { processEvent } from '../src/messaging/listener.ts';
import { SessionRevocations } from '../src/sessions/revocations.ts';
import {
  pruneRevocations,
  recordRevocation,
  sessionRevokedListener,
  watchRevocations,
  type RevocationWatch,
} from '../src/sessions/revocation-store.ts';
import { createTestDatabase, silentLogger, waitFor } from '../src/testing/index.ts';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

describe('revoked sessions in memory', () => {
  const now = Date.now();

  it('refuses a revoked session by its id, and nothing else', () => {
    const revocations = new SessionRevocations();
    const userId = randomUUID();
    const sessionId = randomUUID();
    revocations.add({ userId, sessionId, revokedAt: now, expiresAt: now + WEEK });
    expect(revocations.isRevoked(userId, sessionId, now - 1000)).toBe(true);
    expect(revocations.isRevoked(userId, randomUUID(), now - 1000)).toBe(false);
  });

  it("refuses a user's sessions begun before the latest cutoff, and those begun after none", () => {
    const revocations = new SessionRevocations();
    const userId = randomUUID();
    revocations.add({ userId, revokedAt: now, expiresAt: now + WEEK });
    revocations.add({ userId, revokedAt: now - 5000, expiresAt: now - 5000 + WEEK }); // older, arriving late
    expect(revocations.isRevoked(userId, randomUUID(), now - 1)).toBe(true);
    expect(revocations.isRevoked(userId, randomUUID(), now)).toBe(false);
    expect(revocations.isRevoked(randomUUID(), randomUUID(), now - 1)).toBe(false);
  });

  it('forgets what has expired, and only that', () => {
    const revocations = new SessionRevocations();
    revocations.add({ userId: randomUUID(), sessionId: randomUUID(), revokedAt: now, expiresAt: now + 10 });
    revocations.add({ userId: randomUUID(), revokedAt: now, expiresAt: now + 10 });
    revocations.add({ userId: randomUUID(), sessionId: randomUUID(), revokedAt: now, expiresAt: now + WEEK });
    expect(revocations.size).toBe(3);
    revocations.prune(now + 11);
    expect(revocations.size).toBe(1);
  });
});

describe('revoked sessions in a service database', () => {
  let database: TestDatabase;
  const watches: RevocationWatch[] = [];
  /** A replica of the service: its memory, loaded and kept current from the database. */
  const replica = async () => {
    const revocations = new SessionRevocations();
    watches.push(await watchRevocations(database, revocations, silentLogger));
    return revocations;
  };
  beforeAll(async () => {
    database = await createTestDatabase('revocations');
    await migrateDatabase(database);
  });
  afterAll(async () => {
    for (const watch of watches) await watch.close();
    await database?.drop();
  });

  const revoked = (data: { userId?: string; sessionId?: string } = {}) => {
    const at = Date.now();
    return makeEvent('session:revoked', {
      userId: data.userId ?? randomUUID(),
      sessionId: data.sessionId ?? randomUUID(),
      revokedAt: new Date(at).toISOString(),
      expiresAt: new Date(at + WEEK).toISOString(),
    });
  };
  const deliver = (event: ReturnType<typeof revoked>) =>
    processEvent(database, 'tickets', sessionRevokedListener, event, silentLogger);
  const rows = async (userId: string) =>
    (await database.pool.query('select * from session_revocations where user_id = $1', [userId])).rows;

  it('applies session:revoked once, however often it is delivered, and every replica refuses the session', async () => {
    const [handling, other] = [await replica(), await replica()];
    const event = revoked();
    const { userId, sessionId } = event.data;
    expect(await deliver(event)).toEqual({ kind: 'ack' });
    expect(await deliver(event)).toEqual({ kind: 'ack' });
    // The same revocation in another event (published twice) is still one row.
    expect(await deliver({ ...event, id: randomUUID() })).toEqual({ kind: 'ack' });
    expect(await rows(userId)).toHaveLength(1);
    for (const revocations of [handling, other]) {
      await waitFor(() => revocations.isRevoked(userId, sessionId!, Date.now()), 1_000, 5);
    }
  });

  it('dead-letters a session:revoked that is not one', async () => {
    const event = { ...revoked(), data: { userId: 'me' } };
    expect((await deliver(event as never)).kind).toBe('dead-letter');
  });

  it('refuses after a restart what it refused before', async () => {
    const event = revoked();
    const everywhere = { userId: randomUUID(), revokedAt: Date.now(), expiresAt: Date.now() + WEEK };
    await deliver(event);
    await database.db.transaction((tx) => recordRevocation(tx, everywhere));
    const restarted = await replica();
    expect(restarted.isRevoked(event.data.userId, event.data.sessionId!, 0)).toBe(true);
    expect(restarted.isRevoked(everywhere.userId, randomUUID(), everywhere.revokedAt - 1)).toBe(true);
    expect(restarted.isRevoked(everywhere.userId, randomUUID(), everywhere.revokedAt)).toBe(false);
  });

  it('reads the table again when its listening connection comes back, for what it missed meanwhile', async () => {
    const revocations = await replica();
    await waitFor(async () => watches.at(-1)!.listening, 10_000, 5);
    const userId = randomUUID();
    const sessionId = randomUUID();
    // The connection drops (the last thing it ran: its LISTEN, or since, its heartbeat); a
    // revocation is recorded while no notification can reach it.
    await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()
          and query in ('listen ticketing_sessions', 'select 1')`,
    );
    await waitFor(async () => !watches.at(-1)!.listening, 10_000, 5);
    await database.pool.query(
      `insert into session_revocations (user_id, session_id, revoked_at, expires_at)
       values ($1, $2, now(), now() + interval '7 days')`,
      [userId, sessionId],
    );
    await waitFor(() => revocations.isRevoked(userId, sessionId, Date.now()), 10_000);
  });

  it('prunes revocations an hour after every token they name has expired', async () => {
    const userId = randomUUID();
    const at = Date.now();
    await database.db.transaction(async (tx) => {
      await recordRevocation(tx, {
        userId,
        sessionId: randomUUID(),
        revokedAt: at - 2 * HOUR,
        expiresAt: at - 2 * HOUR,
      });
      await recordRevocation(tx, {
        userId,
        sessionId: randomUUID(),
        revokedAt: at,
        expiresAt: at - HOUR / 2,
      });
    });
    await pruneRevocations(database);
    expect(await rows(userId)).toHaveLength(1);
  });
});
