/**
 * Listeners: how a service declares "on event X, do Y" and gets, for free, validation of the
 * payload, exactly-once effect (an inbox row written in the handler's transaction, so a
 * redelivered event is acknowledged without effect), the retry/dead-letter policy, and the
 * outbox for the events its handler publishes (same transaction).
 *
 * A handler signals an event that arrived too early (a version from the future) by throwing
 * `RetryLater`; it is deferred, retried with backoff on a budget of its own (`maxEarlyWaitMs`,
 * 30 minutes) while its predecessor is on its way. An event about the past simply returns:
 * ack.
 */
import { context, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { sql } from 'drizzle-orm';
import { parseEvent, type EventData, type EventEnvelope, type EventType } from '../events/contract.ts';
import { isConnectionError, type ServiceDatabase, type Transaction } from '../db/database.ts';
import { deadLetters } from '../db/schema.ts';
import {
  ack,
  consume,
  deadLetter,
  retryEarly,
  type Answer,
  type AttemptCounts,
  type DeadLetter,
  type DeadLetterStore,
  type Outcome,
  type RetryPolicy,
} from './consumer.ts';
import type { Subscription, Transport } from './transport.ts';

export interface ListenerContext<T extends EventType> {
  tx: Transaction;
  event: EventEnvelope<T>;
  data: EventData<T>;
  log: Logger;
}

export interface Listener<T extends EventType> {
  event: T;
  handle(context: ListenerContext<T>): Promise<void>;
  /**
   * False: each event in a transaction of its own, never batched with others (`ListenerQueue`).
   * For handlers that call out of the process (a payment provider): a batch would hold its rows
   * locked while it waits, and repeat the calls of a batch rolled back.
   */
  batch?: boolean;
}

/** A listener for any one event type (what a service's list of listeners holds). */
export type AnyListener = { [T in EventType]: Listener<T> }[EventType];

export function defineListener<T extends EventType>(
  event: T,
  handle: (context: ListenerContext<T>) => Promise<void>,
  options: { batch?: boolean } = {},
): Listener<T> {
  return { event, handle, ...options };
}

/** Thrown by a handler for an event that cannot be applied yet (e.g. version v before v-1). */
export class RetryLater extends Error {}

/** Thrown by a handler for an event that can never be applied; it is dead-lettered at once. */
export class UnprocessableEvent extends Error {}

export function inboxConsumer(group: string, event: EventType): string {
  return `${group}:${event}`;
}

/**
 * Applies one delivery of `listener`'s event: validate, then inbox row + handler in one
 * transaction. Returns the outcome (ack / retry / dead-letter); the listener tests go through
 * here, and the runtime applies a delivery the same way whenever it is alone (`ListenerQueue`).
 */
export async function processEvent<T extends EventType>(
  database: ServiceDatabase,
  group: string,
  listener: Listener<T>,
  body: unknown,
  log: Logger,
): Promise<Outcome> {
  const parsed = parseEvent(body, listener.event);
  if (!parsed.ok) return deadLetter(parsed.reason);
  return applyAlone(database, group, listener, { event: parsed.event, context: context.active() }, log);
}

/** An event to apply, and the trace context of its delivery, in which its handler runs. */
interface Delivery<T extends EventType> {
  event: EventEnvelope<T>;
  context: Context;
}

async function applyAlone<T extends EventType>(
  database: ServiceDatabase,
  group: string,
  listener: Listener<T>,
  delivery: Delivery<T>,
  log: Logger,
): Promise<Outcome> {
  try {
    await applyTogether(database, group, listener, [delivery], log);
    return ack;
  } catch (error) {
    if (error instanceof RetryLater) return retryEarly(error.message);
    if (error instanceof UnprocessableEvent) return deadLetter(error.message);
    if (isConnectionError(error)) return outage(error);
    throw error; // a failing handler: the consumer retries with backoff, then dead-letters
  }
}

const outage = (error: unknown): Outcome => ({ kind: 'retry', reason: String(error), transient: true });

/**
 * Applies `deliveries` in one transaction: their inbox rows in one statement, then the handler of
 * each event whose row is new, in the order given, so that an event applied before (or listed
 * twice) has no effect. All of them or none: a handler's error rolls back the lot.
 */
async function applyTogether<T extends EventType>(
  database: ServiceDatabase,
  group: string,
  listener: Listener<T>,
  deliveries: readonly Delivery<T>[],
  log: Logger,
): Promise<void> {
  const consumer = inboxConsumer(group, listener.event);
  // Postgres answers with uuids in lower case; an envelope may spell its id in upper case.
  const idOf = ({ event }: Delivery<T>) => event.id.toLowerCase();
  const ids = deliveries.map(idOf);
  await database.db.transaction(async (tx) => {
    // Plain SQL: the query builder took about a tenth of the process's CPU per event on
    // `npm run bench:bus`.
    const { rows } = await tx.execute<{ event_id: string }>(sql`
      insert into inbox (consumer, event_id)
      select ${consumer}, id from unnest(${sql.param(ids)}::uuid[]) as id
      on conflict do nothing
      returning event_id`);
    const fresh = new Set(rows.map((row) => row.event_id));
    for (const delivery of deliveries) {
      if (!fresh.delete(idOf(delivery))) continue; // applied before, or listed twice: no effect
      const { event } = delivery;
      const handle = () =>
        listener.handle({
          tx,
          event,
          data: event.data,
          log: log.child({ eventId: event.id, type: event.type }),
        });
      await context.with(delivery.context, handle);
    }
  });
}

export interface BatchingOptions {
  /** Transactions of one listener running at once in this process. */
  lanes: number;
  /** Events in one transaction, at most. */
  maxBatch: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { lanes: 2, maxBatch: 16 };

interface Waiting<T extends EventType> extends Delivery<T> {
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/**
 * One listener's deliveries in this process, applied in shared transactions (group commit).
 *
 * Deliveries that arrive together (in one turn of the event loop: one read from the broker) while
 * a lane is free start one transaction, right after that turn. One that arrives while every lane
 * is busy waits, and the next lane to come free takes every delivery waiting (up to `maxBatch`)
 * into one transaction. Under load, BEGIN, the inbox insert and COMMIT are paid once per batch
 * instead of once per event; at rest, nothing waits longer than that turn. Each handler runs in
 * the trace context of its own delivery. A listener defined with `batch: false` skips the queue:
 * each delivery is applied alone, as it comes.
 *
 * A batch commits whole or not at all. If anything in it fails (a handler's error, a version from
 * the future, a deadlock with another replica), it is rolled back and its events are applied one
 * by one, each with the outcome it would have had alone. Only an outage (the database unreachable)
 * answers the whole batch at once, since each event alone would meet it too.
 */
export class ListenerQueue<T extends EventType> {
  private readonly waiting: Waiting<T>[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly group: string,
    private readonly listener: Listener<T>,
    private readonly log: Logger,
    private readonly options: BatchingOptions = DEFAULT_BATCHING,
  ) {
    const { lanes, maxBatch } = options;
    if (!(Number.isInteger(lanes) && lanes >= 1 && Number.isInteger(maxBatch) && maxBatch >= 1)) {
      throw new Error(
        `batching needs at least one lane and one event per batch, got ${lanes} and ${maxBatch}`,
      );
    }
  }

  /** Validates a delivery's body and applies it; resolves with its outcome. */
  apply(body: unknown): Promise<Outcome> {
    const parsed = parseEvent(body, this.listener.event);
    if (!parsed.ok) return Promise.resolve(deadLetter(parsed.reason));
    const delivery = { event: parsed.event, context: context.active() };
    if (this.listener.batch === false) {
      return applyAlone(this.database, this.group, this.listener, delivery, this.log);
    }
    return new Promise<Outcome>((resolve, reject) => {
      this.waiting.push({ ...delivery, resolve, reject });
      this.scheduleBatches();
    });
  }

  /**
   * Starts lanes once the deliveries already read have all arrived: the broker's messages come in
   * bursts, one socket read holding many, and each reaches `apply` in the same turn of the event
   * loop. Started at once, the burst's first two deliveries would each take a lane alone.
   */
  private scheduleBatches(): void {
    if (this.scheduled || this.running >= this.options.lanes) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.running < this.options.lanes && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.running += 1;
      // A lane belongs to no delivery: it must not run its batch in the context of the delivery
      // whose arrival started it.
      void context.with(ROOT_CONTEXT, () =>
        this.applyBatch(batch).finally(() => {
          this.running -= 1;
          this.startBatches();
        }),
      );
    }
  }

  private async applyBatch(batch: Waiting<T>[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await applyTogether(this.database, this.group, this.listener, batch, this.log);
        for (const waiting of batch) waiting.resolve(ack);
        return;
      } catch (error) {
        if (isConnectionError(error)) {
          for (const waiting of batch) waiting.resolve(outage(error));
          return;
        }
        this.log.debug(
          { err: error, events: batch.length },
          'batch rolled back; applying its events one by one',
        );
      }
    }
    for (const waiting of batch) {
      await applyAlone(this.database, this.group, this.listener, waiting, this.log).then(
        waiting.resolve,
        waiting.reject,
      );
    }
  }
}

/** Dead letters and the attempt ledger in the service's own database (`dead_letters`, `delivery_attempts`). */
export class PostgresDeadLetters implements DeadLetterStore {
  constructor(private readonly database: ServiceDatabase) {}

  async record(letter: DeadLetter): Promise<void> {
    await this.database.db
      .insert(deadLetters)
      .values({
        consumer: letter.consumer,
        eventId: letter.eventId,
        type: letter.subject,
        body: letter.body ?? null,
        reason: letter.reason,
        deliveryCount: letter.deliveryCount,
      })
      .onConflictDoNothing(); // given up on already, by a delivery that answered first
  }

  async beginRedelivery(consumer: string, eventId: string): Promise<AttemptCounts> {
    return this.upsert(consumer, eventId, { started: 1, failures: 0, deferrals: 0, outages: 0 });
  }

  async recordAnswer(consumer: string, eventId: string, answer: Answer): Promise<AttemptCounts> {
    return this.upsert(consumer, eventId, {
      started: 0,
      failures: answer === 'failure' ? 1 : 0,
      deferrals: answer === 'deferral' ? 1 : 0,
      outages: answer === 'outage' ? 1 : 0,
    });
  }

  async forget(consumer: string, eventId: string): Promise<void> {
    await this.database.pool.query('delete from delivery_attempts where consumer = $1 and event_id = $2', [
      consumer,
      eventId,
    ]);
  }

  private async upsert(
    consumer: string,
    eventId: string,
    add: { started: number; failures: number; deferrals: number; outages: number },
  ): Promise<AttemptCounts> {
    const { rows } = await this.database.pool.query<AttemptCounts>(
      `insert into delivery_attempts as a
         (consumer, event_id, started, failures, deferrals, outages, first_deferred_at)
       values ($1, $2, $3, $4, $5, $6, case when $5 > 0 then now() end)
       on conflict (consumer, event_id) do update set
         started = a.started + excluded.started,
         failures = a.failures + excluded.failures,
         deferrals = a.deferrals + excluded.deferrals,
         outages = a.outages + excluded.outages,
         first_deferred_at = coalesce(a.first_deferred_at, excluded.first_deferred_at),
         updated_at = now()
       returning started, failures, deferrals, outages,
         coalesce(extract(epoch from now() - first_deferred_at) * 1000, 0)::float8 as "waitedMs"`,
      [consumer, eventId, add.started, add.failures, add.deferrals, add.outages],
    );
    return rows[0]!;
  }

  async list(): Promise<(typeof deadLetters.$inferSelect)[]> {
    return this.database.db.select().from(deadLetters).orderBy(deadLetters.id);
  }
}

export interface StartListenersOptions {
  group: string;
  database: ServiceDatabase;
  transport: Transport;
  listeners: readonly AnyListener[];
  logger: Logger;
  concurrency?: number;
  policy?: Partial<RetryPolicy>;
}

/** Subscribes every listener of a service; `close` stops them after their in-flight events. */
export async function startListeners(options: StartListenersOptions): Promise<Subscription> {
  const deadLetterStore = new PostgresDeadLetters(options.database);
  const subscriptions = await Promise.all(
    options.listeners.map((listener) => {
      const queue = new ListenerQueue(options.database, options.group, listener, options.logger);
      return consume(
        options.transport,
        {
          group: options.group,
          subject: listener.event,
          concurrency: options.concurrency,
          policy: options.policy,
          deadLetters: deadLetterStore,
          logger: options.logger,
        },
        (message) => queue.apply(message.body),
      );
    }),
  );
  return {
    close: async () => {
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}

/**
 * Deletes inbox rows older than the broker could still redeliver (days, not minutes), and the
 * attempt-ledger lines left that long (those of settled events go at once).
 */
export async function purgeInbox(database: ServiceDatabase, olderThanDays = 7): Promise<void> {
  await database.db.execute(
    sql`delete from inbox where processed_at < now() - make_interval(days => ${olderThanDays})`,
  );
  await database.db.execute(
    sql`delete from delivery_attempts where updated_at < now() - make_interval(days => ${olderThanDays})`,
  );
}
