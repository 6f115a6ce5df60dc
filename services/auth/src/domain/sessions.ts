/**
 * Sessions: begun by signing up or in, ended by signing out (this session) or out everywhere
 * (every session of the user begun until then). The auth service records each session; every
 * service checks its tokens on its own (packages/common/src/http/session.ts), so ending one
 * early is news for all of them: `session:revoked`, published through the outbox in the
 * transaction that revokes, and recorded in this service's own revocations in the same
 * transaction, which its replicas learn of at commit.
 */
import { randomUUID } from 'node:crypto';
import {
  publishEvent,
  recordRevocation,
  type CurrentSession,
  type Executor,
  type Revocation,
  type ServiceDatabase,
  type SessionLifetimes,
  type Transaction,
} from '@ticketing/common';
import {
  deleteEndedSessions,
  insertSession,
  lockUser,
  revokeSession,
  revokeUserSessions,
} from '../data-access/sessions-repository.ts';

/** A session as a token needs it: its id and when it began (milliseconds since the epoch). */
export interface SessionStart {
  id: string;
  startedAt: number;
}

/**
 * Begins a session of `userId`, inside the caller's transaction. The user's row is share-locked
 * first, so that a sign-out everywhere running meanwhile either sees this session or cuts off
 * before it began.
 */
export async function beginSession(
  tx: Transaction,
  userId: string,
  lifetimes: SessionLifetimes,
): Promise<SessionStart> {
  await lockUser(tx, userId, 'share');
  const row = await insertSession(tx, {
    id: randomUUID(),
    userId,
    absoluteSeconds: lifetimes.absoluteSeconds,
  });
  return { id: row.id, startedAt: row.createdAt };
}

/**
 * Ends `session` now, for every service. Returns the revocation (for this replica's memory at
 * once), or undefined when it was revoked before.
 */
export async function endSession(
  database: ServiceDatabase,
  session: CurrentSession,
  lifetimes: SessionLifetimes,
): Promise<Revocation | undefined> {
  return database.db.transaction(async (tx) => {
    const row = await revokeSession(tx, session.id, session.user.id);
    const revocation: Revocation = {
      userId: session.user.id,
      sessionId: session.id,
      revokedAt: row?.revokedAt ?? Date.now(),
      // A session this service has no row of (signed with the key elsewhere) is ended all the same.
      expiresAt: row?.expiresAt ?? session.startedAt + lifetimes.absoluteSeconds * 1000,
    };
    return (await announce(tx, revocation)) ? revocation : undefined;
  });
}

/** Ends every session of `userId` begun until now, for every service; returns the revocation. */
export async function endEverySession(
  database: ServiceDatabase,
  userId: string,
  lifetimes: SessionLifetimes,
): Promise<Revocation> {
  return database.db.transaction(async (tx) => {
    await lockUser(tx, userId, 'update');
    const cutoff = await revokeUserSessions(tx, userId);
    const revocation: Revocation = {
      userId,
      revokedAt: cutoff,
      expiresAt: cutoff + lifetimes.absoluteSeconds * 1000,
    };
    await announce(tx, revocation);
    return revocation;
  });
}

/** Records the revocation here and publishes it, unless it was recorded before. */
async function announce(tx: Executor, revocation: Revocation): Promise<boolean> {
  if (!(await recordRevocation(tx, revocation))) return false;
  await publishEvent(
    tx,
    'session:revoked',
    {
      userId: revocation.userId,
      ...(revocation.sessionId === undefined ? {} : { sessionId: revocation.sessionId }),
      revokedAt: new Date(revocation.revokedAt).toISOString(),
      expiresAt: new Date(revocation.expiresAt).toISOString(),
    },
    revocation.userId, // a user's revocations are published in order
  );
  return true;
}

/** Forgets sessions that ended more than a day ago (their tokens are refused for their age). */
export async function forgetEndedSessions(database: ServiceDatabase): Promise<void> {
  await deleteEndedSessions(database.db, 24 * 3600);
}
