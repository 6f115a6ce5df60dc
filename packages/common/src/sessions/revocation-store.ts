/**
 * Revoked sessions in a service's database (`session_revocations`), and how they reach every
 * replica's memory (revocations.ts), which the session check reads on every request.
 *
 * - The auth service records what it revokes in the transaction that revokes it (and publishes
 *   `session:revoked` from it); every other service that serves signed-in routes records the
 *   event with `sessionRevokedListener`, exactly once per event (the inbox), and a revocation
 *   recorded twice is one row.
 * - Each insert notifies `ticketing_sessions` with the revocation in its payload, from the
 *   inserting transaction, so every replica on the database adds it to memory when it commits
 *   (within milliseconds). The JetStream consumer of a service is shared by its replicas, so
 *   only one of them handles each event: the notification is how the others learn of it.
 *   (Revocations are rare, so a NOTIFY in their transaction, which serialises commits that
 *   notify, costs nothing that matters.)
 * - At start, and whenever the listening connection comes back (notifications sent meanwhile are
 *   lost), the replica reads the table again: a restarted service refuses what it refused before.
 * - Rows, and entries in memory, go an hour after every token they name is past its absolute
 *   lifetime: such a token is refused for its age alone.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Executor, ServiceDatabase } from '../db/database.ts';
import { listenForNotifications } from '../db/notifications.ts';
import { defineListener } from '../messaging/listener.ts';
import type { EventData } from '../events/contract.ts';
import type { Revocation, SessionRevocations } from './revocations.ts';

export const REVOCATIONS_CHANNEL = 'ticketing_sessions';
/** How long a revocation is kept after every token it names has expired (clocks differ a little). */
const KEEP_AFTER_EXPIRY_MS = 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/** The revocation an event announces. */
export function revocationOf(data: EventData<'session:revoked'>): Revocation {
  return {
    userId: data.userId,
    ...(data.sessionId === undefined ? {} : { sessionId: data.sessionId }),
    revokedAt: Date.parse(data.revokedAt),
    expiresAt: Date.parse(data.expiresAt),
  };
}

/**
 * Records `revocation` in the service's table and tells every replica on the database (when the
 * transaction commits). True when it was new.
 */
export async function recordRevocation(tx: Executor, revocation: Revocation): Promise<boolean> {
  const payload = JSON.stringify(revocation);
  const { rows } = await tx.execute<{ seq: number }>(sql`
    with recorded as (
      insert into session_revocations (user_id, session_id, revoked_at, expires_at)
      values (${revocation.userId}, ${revocation.sessionId ?? null},
              ${new Date(revocation.revokedAt).toISOString()}, ${new Date(revocation.expiresAt).toISOString()})
      on conflict do nothing
      returning seq)
    select seq, pg_notify(${REVOCATIONS_CHANNEL}, ${payload}) from recorded`);
  return rows.length > 0;
}

/** Every revocation of the table still in force, into `revocations`. */
export async function loadRevocations(database: ServiceDatabase, revocations: SessionRevocations) {
  const { rows } = await database.pool.query<{
    user_id: string;
    session_id: string | null;
    revoked_at: Date;
    expires_at: Date;
  }>(
    `select user_id, session_id, revoked_at, expires_at from session_revocations
      where expires_at > now() - $1 * interval '1 millisecond'`,
    [KEEP_AFTER_EXPIRY_MS],
  );
  for (const row of rows) {
    revocations.add({
      userId: row.user_id,
      ...(row.session_id === null ? {} : { sessionId: row.session_id }),
      revokedAt: row.revoked_at.getTime(),
      expiresAt: row.expires_at.getTime(),
    });
  }
}

/** Deletes the rows that can no longer matter. */
export async function pruneRevocations(database: ServiceDatabase): Promise<void> {
  await database.pool.query(
    `delete from session_revocations where expires_at < now() - $1 * interval '1 millisecond'`,
    [KEEP_AFTER_EXPIRY_MS],
  );
}

export interface RevocationWatch {
  /** Whether its connection listens for revocations now (false while it connects or reconnects). */
  readonly listening: boolean;
  close(): Promise<void>;
}

/**
 * Loads the service's revocations into `revocations`, then keeps it current: each notified
 * revocation added as it commits, the table read again after a reconnect (retried until it is
 * read), old entries and rows pruned hourly. Resolves once the first load is done: a service
 * takes no request before it knows what to refuse.
 */
export async function watchRevocations(
  database: ServiceDatabase,
  revocations: SessionRevocations,
  logger: Logger,
): Promise<RevocationWatch> {
  await loadRevocations(database, revocations);
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const reload = () => {
    clearTimeout(retry);
    loadRevocations(database, revocations).catch((error: unknown) => {
      if (closed) return;
      logger.warn({ err: error }, 'could not read the revoked sessions; trying again');
      retry = setTimeout(reload, 1_000).unref();
    });
  };
  const notifications = listenForNotifications(
    database.url,
    REVOCATIONS_CHANNEL,
    (payload) => {
      // (Re)connected: what was notified before (since the load above, the first time) is missed.
      if (payload === undefined) return reload();
      try {
        revocations.add(JSON.parse(payload) as Revocation);
      } catch (error) {
        logger.warn({ err: error }, 'unreadable revocation notified; reading the table again');
        reload();
      }
    },
    logger,
  );
  const prune = setInterval(() => {
    revocations.prune(Date.now() - KEEP_AFTER_EXPIRY_MS);
    pruneRevocations(database).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not prune the revoked sessions; will try again'),
    );
  }, PRUNE_EVERY_MS).unref();
  return {
    get listening() {
      return notifications.listening;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      clearInterval(prune);
      await notifications.close();
    },
  };
}

/**
 * `session:revoked`, for every service that serves signed-in routes: records the revocation, which
 * every replica of the service then refuses.
 */
export const sessionRevokedListener = defineListener('session:revoked', async ({ tx, data }) => {
  await recordRevocation(tx, revocationOf(data));
});
