/**
 * Transactional outbox, the producing side. A service never publishes from a request or event
 * handler: it calls `publishEvent(tx, ...)` inside the transaction that changes its state (or, for
 * one row and one event, a statement from `prepareWriteAndPublish`: the change and the outbox row
 * in one statement), and the relay (outbox-relay.ts) publishes the row after commit. A crash at
 * any point loses nothing: an unsent row is sent by the next relay, and a row sent twice is
 * dropped by the broker (msgID) or the consumers' inbox.
 */
import pg from 'pg';
import { fillPlaceholders, is, sql, type SQLWrapper } from 'drizzle-orm';
import { PgDialect, PgTransaction } from 'drizzle-orm/pg-core';
import { makeEvent, type EventData, type EventEnvelope, type EventType } from '../events/contract.ts';
import type { Executor, ServiceDatabase } from '../db/database.ts';
import { OUTBOX_CHANNEL, queueInUnit, signalOf } from '../db/unit-of-work.ts';

/** An outbox row: the columns, and the values in that order (values, or placeholders for them). */
const OUTBOX_COLUMNS = sql`outbox (event_id, type, entity_id, envelope)`;
const outboxRow = (eventId: unknown, type: unknown, entityId: unknown, envelope: unknown) =>
  sql`${eventId}, ${type}, ${entityId}, ${envelope}::jsonb`;
const outboxValues = (event: EventEnvelope, entityId: string) =>
  outboxRow(event.id, event.type, entityId, JSON.stringify(event));

/**
 * Records `type` with `data` in the outbox of the transaction's database. The event is published
 * if and only if the transaction commits. `entityId` orders events of one entity (default: data.id).
 */
export async function publishEvent<T extends EventType>(
  tx: Executor,
  type: T,
  data: EventData<T>,
  entityId: string = entityOf(data),
): Promise<EventEnvelope<T>> {
  const event = makeEvent(type, data);
  await tx.execute(sql`insert into ${OUTBOX_COLUMNS} values (${outboxValues(event, entityId)})`);
  await announceQueued(tx, entityId);
  return event;
}

/**
 * After a statement on `executor` queued an event for `entityId`: a unit of work notes the entity
 * and signals once it commits; a statement of its own on a service's database handle has committed,
 * and signals now. Anything else (a transaction or a handle nobody owns: a script's, a test's)
 * NOTIFYs the relay: in a transaction, delivered when it commits; on a handle, after the event
 * has committed, so a NOTIFY that fails there is not the caller's error (the relay's poll finds
 * the row within a second).
 */
async function announceQueued(executor: Executor, entityId: string): Promise<void> {
  const notify = () => executor.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`);
  if (is(executor, PgTransaction)) {
    if (!queueInUnit(executor, entityId)) await notify();
    return;
  }
  const signal = signalOf(executor);
  if (signal) signal.committed([entityId]);
  else await notify().catch(() => undefined);
}

/**
 * Runs `write`, a data-modifying statement with `RETURNING` (a drizzle update or insert), and
 * queues an event of `type` with `data` in the same statement: the event is queued if and only if
 * `write` returned a row. One round trip where the write and `publishEvent` are two; for a write
 * whose event data is known before it runs. On a transaction, the event is published if and only
 * if it commits; on a database handle, the statement commits by itself, and with it the event.
 * Answers how many rows `write` returned.
 */
export async function writeAndPublish<T extends EventType>(
  executor: Executor,
  write: SQLWrapper,
  type: T,
  data: EventData<T>,
  entityId: string = entityOf(data),
): Promise<number> {
  const event = makeEvent(type, data);
  const { rows } = await executor.execute<{ written: number }>(sql`with written as (${write.getSQL()}),
      queued as (insert into ${OUTBOX_COLUMNS} select ${outboxValues(event, entityId)} where exists (select 1 from written))
      select count(*)::int as written from written`);
  const written = rows[0]?.written ?? 0;
  if (written > 0) await announceQueued(executor, entityId);
  return written;
}

/**
 * A statement that runs `write`, a data-modifying statement with `RETURNING` that changes one
 * row, and queues an event of `type` in the same statement, which commits on its own: the event
 * is queued if and only if `write` returned a row. That is one round trip where `BEGIN`, the
 * write, the outbox insert and `COMMIT` are four; for a hot path whose event data is known before
 * the write (the rush's order creation).
 *
 * Prepared: `write` is built once, with `sql.placeholder(name)` for each of its values, and the
 * whole statement is rendered here, once. Each call fills in the values and runs it as the named
 * statement `name`, which Postgres parses once per connection and whose plan it caches. (Built by
 * drizzle and parsed by Postgres on every call, this was the busiest work of the orders replica in
 * a rush after the HTTP requests themselves.)
 *
 * The returned function takes the values of the placeholders and the event's data, and answers
 * the rows `write` returned, as Postgres names their columns, in node-postgres's types. It runs
 * on the pool, never inside a transaction: it commits by itself.
 */
export function prepareWriteAndPublish<
  T extends EventType,
  Values extends Record<string, unknown>,
  Row extends pg.QueryResultRow,
>(name: string, type: T, write: SQLWrapper): WriteAndPublish<T, Values, Row> {
  const queued = outboxRow(
    sql.placeholder(EVENT_ID),
    type,
    sql.placeholder(ENTITY_ID),
    sql.placeholder(ENVELOPE),
  );
  const statement = dialect.sqlToQuery(sql`with written as (${write.getSQL()}),
      queued as (insert into ${OUTBOX_COLUMNS} select ${queued} where exists (select 1 from written))
      select * from written`);
  // A name is one statement on every connection: Postgres refuses a second text under the same
  // name only on the connections that ran the first, which would fail now and then, not at once.
  const known = preparedTexts.get(name);
  if (known !== undefined && known !== statement.sql)
    throw new Error(`prepared statement ${name} is already another statement`);
  preparedTexts.set(name, statement.sql);
  return async (database, values, data, entityId = entityOf(data)) => {
    const event = makeEvent(type, data);
    const query = {
      name,
      text: statement.sql,
      values: fillPlaceholders(statement.params, {
        ...values,
        [EVENT_ID]: event.id,
        [ENTITY_ID]: entityId,
        [ENVELOPE]: JSON.stringify(event),
      }),
    };
    let rows: Row[];
    try {
      rows = (await database.pool.query<Row>(query)).rows;
    } catch (error) {
      // It may have committed all the same (a connection lost on the way back): a wake-up that
      // finds nothing costs nothing.
      announceCommit(database, entityId);
      throw error;
    }
    if (rows.length > 0) announceCommit(database, entityId);
    return rows;
  };
}

export type WriteAndPublish<T extends EventType, Values, Row> = (
  database: StatementTarget,
  values: Values,
  data: EventData<T>,
  entityId?: string,
) => Promise<Row[]>;

const dialect = new PgDialect();
const preparedTexts = new Map<string, string>();
// The outbox row's own placeholders, named so that no write's could be taken for them.
const EVENT_ID = 'outbox.event_id';
const ENTITY_ID = 'outbox.entity_id';
const ENVELOPE = 'outbox.envelope';

/** Where a prepared statement runs: a service's database, or a bare pool (a script, a test). */
export type StatementTarget = Pick<ServiceDatabase, 'pool'> & Partial<Pick<ServiceDatabase, 'commits'>>;

/** After a statement that wrote an outbox row committed: the relay and the caches, as after a unit of work. */
function announceCommit(database: StatementTarget, entityId: string): void {
  if (database.commits) return database.commits.committed([entityId]);
  // A bare pool: wake a relay elsewhere. Should that fail, the relay's poll finds the row within a second.
  database.pool.query('select pg_notify($1, $2)', [OUTBOX_CHANNEL, '']).catch(() => {});
}

function entityOf(data: object): string {
  const record = data as { id?: unknown; orderId?: unknown };
  const id = record.id ?? record.orderId;
  if (typeof id !== 'string')
    throw new Error('publishEvent needs an entityId for events without id or orderId');
  return id;
}
