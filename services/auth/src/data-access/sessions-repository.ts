/**
 * Reads and writes of the sessions table. Times come from the database's clock, to the
 * millisecond (what a token's `started` carries), so that every replica of auth reads one clock.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '@ticketing/common';

/** The clock, in whole milliseconds, as a time every comparison below agrees with. */
const NOW_MS = sql`date_trunc('milliseconds', clock_timestamp())`;
/** A time as milliseconds since the epoch (a number). */
const epochMs = (time: string) => sql.raw(`(extract(epoch from ${time}) * 1000)::float8`);

export interface SessionRow {
  id: string;
  userId: string;
  /** Milliseconds since the epoch, like every time below. */
  createdAt: number;
  expiresAt: number;
}

/** Records a session of `userId` beginning now and ending at the latest `absoluteSeconds` later. */
export async function insertSession(
  db: Executor,
  values: { id: string; userId: string; absoluteSeconds: number },
): Promise<SessionRow> {
  const { rows } = await db.execute<{ created_at: number; expires_at: number }>(sql`
    insert into sessions (id, user_id, created_at, expires_at)
    select ${values.id}, ${values.userId}, at, at + ${values.absoluteSeconds} * interval '1 second'
      from (select ${NOW_MS} as at) as now
    returning ${epochMs('created_at')} as created_at, ${epochMs('expires_at')} as expires_at`);
  const row = rows[0]!;
  return { id: values.id, userId: values.userId, createdAt: row.created_at, expiresAt: row.expires_at };
}

/**
 * Locks the user's row against a sign-out everywhere (`share`, taken by a sign-in) or against any
 * sign-in (`update`, taken by a sign-out everywhere), so that the two are ordered: a session is
 * either begun before the cutoff and revoked with the others, or begun after it.
 */
export async function lockUser(db: Executor, userId: string, mode: 'share' | 'update'): Promise<boolean> {
  const { rows } = await db.execute(
    mode === 'share'
      ? sql`select 1 from users where id = ${userId} for key share`
      : sql`select 1 from users where id = ${userId} for update`,
  );
  return rows.length > 0;
}

/** Marks the session revoked now, unless it was already; the row as it was, or undefined. */
export async function revokeSession(
  db: Executor,
  sessionId: string,
  userId: string,
): Promise<{ revokedAt: number; expiresAt: number } | undefined> {
  const { rows } = await db.execute<{ revoked_at: number; expires_at: number }>(sql`
    update sessions set revoked_at = ${NOW_MS}
     where id = ${sessionId} and user_id = ${userId} and revoked_at is null
    returning ${epochMs('revoked_at')} as revoked_at, ${epochMs('expires_at')} as expires_at`);
  const row = rows[0];
  return row && { revokedAt: row.revoked_at, expiresAt: row.expires_at };
}

/**
 * Revokes every session of the user begun before now; returns the cutoff: a moment after the
 * last of them began, which no session begun later can precede (the user's row is locked).
 */
export async function revokeUserSessions(db: Executor, userId: string): Promise<number> {
  const { rows } = await db.execute<{ cutoff: number }>(sql`
    with cutoff as (select ${NOW_MS} + interval '1 millisecond' as at),
    revoked as (
      update sessions set revoked_at = cutoff.at from cutoff
       where user_id = ${userId} and revoked_at is null and created_at < cutoff.at)
    select ${epochMs('at')} as cutoff from cutoff`);
  return rows[0]!.cutoff;
}

/** Deletes sessions ended longer ago than `olderThanSeconds`. */
export async function deleteEndedSessions(db: Executor, olderThanSeconds: number): Promise<void> {
  await db.execute(
    sql`delete from sessions where expires_at < now() - ${olderThanSeconds} * interval '1 second'`,
  );
}
