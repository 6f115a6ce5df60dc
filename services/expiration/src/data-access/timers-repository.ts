import { eq, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '@ticketing/common';
import { expirationTimers } from './schema.ts';

export const TIMER_CHANNEL = 'expiration_timers';

/** No scheduler sleeps longer than this between two looks at the table. */
export const SCHEDULER_MAX_SLEEP_MS = 1_000;

/**
 * A timer due sooner than this after it is written wakes the schedulers when its transaction
 * commits. A later one is seen in time by a scheduler's regular look, which comes within
 * `SCHEDULER_MAX_SLEEP_MS` of the commit; the margin is for the rest of the transaction (the
 * other events of a batch, the commit). An order's window is minutes long, so the schedulers are
 * not woken once per order.
 */
export const WAKE_HORIZON_MS = 2 * SCHEDULER_MAX_SLEEP_MS;

/** After a `scheduled` CTE returning `due`: NOTIFY the schedulers when a timer it wrote is due soon. */
const wakeIfDueSoon = (due: SQL) => sql`
    select pg_notify(${TIMER_CHANNEL}, '') from scheduled
     where ${due} < clock_timestamp() + make_interval(secs => ${WAKE_HORIZON_MS / 1000})`;

/** Schedules a timer (once per order), waking the schedulers on commit if it is due soon. */
export async function scheduleTimer(db: Executor, orderId: string, expiresAt: Date): Promise<void> {
  await db.execute(sql`
    with scheduled as (
      insert into expiration_timers (order_id, expires_at) values (${orderId}, ${expiresAt})
      on conflict do nothing
      returning expires_at)
    ${wakeIfDueSoon(sql`expires_at`)}`);
}

export async function cancelTimer(db: Executor, orderId: string): Promise<void> {
  await db.delete(expirationTimers).where(eq(expirationTimers.orderId, orderId));
}

/**
 * Claims up to `limit` due timers and deletes them, in the caller's transaction. SKIP LOCKED lets
 * several replicas claim at once without ever claiming the same timer; the caller publishes in
 * the same transaction, so a timer fires exactly once or, on a crash, not yet.
 */
export async function claimDueTimers(db: Executor, limit: number): Promise<string[]> {
  const { rows } = await db.execute<{ order_id: string }>(sql`
    delete from expiration_timers
     where order_id in (
       select order_id from expiration_timers
        where expires_at <= now()
        order by expires_at
        limit ${limit}
        for update skip locked)
    returning order_id`);
  return rows.map((r) => r.order_id);
}

/**
 * Sets the timer of a ticket's event start from version `version` of the ticket: a first one, or
 * a newer version's other start (re-armed, fired or not). An older version, or the same start
 * again, changes nothing. Wakes the schedulers on commit if it is due soon.
 */
export async function scheduleEventStart(
  db: Executor,
  ticketId: string,
  startsAt: Date,
  version: number,
): Promise<void> {
  await db.execute(sql`
    with scheduled as (
      insert into event_start_timers (ticket_id, starts_at, version) values (${ticketId}, ${startsAt}, ${version})
      on conflict (ticket_id) do update
         set starts_at = excluded.starts_at, version = excluded.version, fired = false
       where event_start_timers.version < excluded.version
         and event_start_timers.starts_at <> excluded.starts_at
      returning starts_at)
    ${wakeIfDueSoon(sql`starts_at`)}`);
}

/**
 * Claims up to `limit` event starts that are due and marks them fired, in the caller's
 * transaction (which publishes them): exactly once, as for orders' timers.
 */
export async function claimDueEventStarts(
  db: Executor,
  limit: number,
): Promise<{ ticketId: string; startsAt: Date }[]> {
  const { rows } = await db.execute<{ ticket_id: string; starts_at: string | Date }>(sql`
    update event_start_timers set fired = true
     where ticket_id in (
       select ticket_id from event_start_timers
        where not fired and starts_at <= now()
        order by starts_at
        limit ${limit}
        for update skip locked)
    returning ticket_id, starts_at`);
  return rows.map((r) => ({ ticketId: r.ticket_id, startsAt: new Date(r.starts_at) }));
}

/** Milliseconds until the next timer of either kind is due (negative if overdue), or undefined when none. */
export async function msUntilNextTimer(db: Executor): Promise<number | undefined> {
  const { rows } = await db.execute<{ ms: number | null }>(sql`
    select (extract(epoch from (least(
             (select min(expires_at) from expiration_timers),
             (select min(starts_at) from event_start_timers where not fired)) - now())) * 1000)::float8 as ms`);
  return rows[0]?.ms ?? undefined;
}
