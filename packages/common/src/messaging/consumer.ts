/**
 * What a consumer does with each delivery, the same on every transport: the handler's outcome maps
 * to ack (done, or already applied), retry with exponential backoff (an event from the future, a
 * transient failure), or dead letter (a poison message, or retries exhausted). Dead letters are
 * recorded where an operator can list them, logged, and then terminated so the rest keeps flowing.
 *
 * Three budgets, because three different things go wrong:
 * - a failing handler (a bug, a constraint it trips) gets `maxDeliver` deliveries;
 * - an event from the future (`early`: the version it builds on has not been applied yet) waits
 *   for its predecessor, which may be held up far longer than a handler retry (it travels on
 *   another durable, or its service's relay is waiting out a broker outage): it gets
 *   `maxEarlyDeliveries`, counted in the store so that every replica of the consumer sees the
 *   same count;
 * - an infrastructure outage (the database unreachable) is not held against the event at all.
 */
import type { Logger } from 'pino';
import { isConnectionError } from '../db/database.ts';
import type { DeliveredMessage, SubscribeOptions, Subscription, Transport } from './transport.ts';

export type Outcome =
  | { kind: 'ack' }
  /**
   * `transient`: the infrastructure failed (database unreachable), not the event; it does not count.
   * `early`: the event builds on one not applied yet; it waits on its own budget.
   */
  | { kind: 'retry'; reason: string; transient?: boolean; early?: boolean }
  | { kind: 'dead-letter'; reason: string };

export const ack: Outcome = { kind: 'ack' };
export const retry = (reason: string): Outcome => ({ kind: 'retry', reason });
export const retryEarly = (reason: string): Outcome => ({ kind: 'retry', reason, early: true });
export const deadLetter = (reason: string): Outcome => ({ kind: 'dead-letter', reason });

export interface DeadLetter {
  consumer: string;
  subject: string;
  eventId: string;
  body: unknown;
  reason: string;
  deliveryCount: number;
}

/** Where a consumer keeps what it gave up on, and how often each early event was sent back. */
export interface DeadLetterStore {
  record(letter: DeadLetter): Promise<void>;
  /** Counts one more deferral of an early event; returns the count so far. */
  defer(consumer: string, eventId: string): Promise<number>;
  /** How many times the event was deferred (0 if never). */
  deferrals(consumer: string, eventId: string): Promise<number>;
}

export interface RetryPolicy {
  /** Deliveries before giving up and dead-lettering (not counting deferrals and outages). */
  maxDeliver: number;
  /**
   * Deferrals of an early event before giving up on its predecessor. At the `maxDelayMs` cap the
   * default, 120, is about ten minutes of waiting.
   */
  maxEarlyDeliveries: number;
  ackWaitMs: number;
  /** Delay before the n-th redelivery: baseDelayMs · 2^(n-1), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxDeliver: 10,
  maxEarlyDeliveries: 120,
  ackWaitMs: 30_000,
  baseDelayMs: 50,
  maxDelayMs: 5_000,
};

export function backoffDelay(policy: RetryPolicy, deliveryCount: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, deliveryCount - 1));
}

export interface ConsumeOptions {
  group: string;
  subject: string;
  concurrency?: number;
  policy?: Partial<RetryPolicy>;
  deadLetters: DeadLetterStore;
  logger: Logger;
}

/**
 * Subscribes `handle` with the outcome policy.
 *
 * The broker redelivers without limit: only this policy gives up, and only by recording a dead
 * letter, so no event ever vanishes. Deliveries that failed because the infrastructure was down
 * (the database unreachable during an outage) are not held against the event: an outage of any
 * length delays events, it does not dead-letter them. A message that keeps coming back without
 * an answer (its handler crashes the process or exceeds the ack wait) is dead-lettered once it has
 * been delivered more than `maxDeliver` times.
 */
export async function consume(
  transport: Transport,
  options: ConsumeOptions,
  handle: (message: DeliveredMessage) => Promise<Outcome>,
): Promise<Subscription> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const log = options.logger.child({ consumer: options.group, subject: options.subject });
  const subscribeOptions: SubscribeOptions = {
    group: options.group,
    subject: options.subject,
    ackWaitMs: policy.ackWaitMs,
    maxDeliver: -1,
    concurrency: options.concurrency ?? 8,
  };

  const sendToDeadLetters = async (message: DeliveredMessage, reason: string) => {
    try {
      await options.deadLetters.record({
        consumer: options.group,
        subject: message.subject,
        eventId: message.id,
        body: message.body,
        reason,
        deliveryCount: message.deliveryCount,
      });
    } catch (error) {
      // Keep the message rather than lose it: it comes back and we try to record it again.
      log.error({ err: error, eventId: message.id }, 'could not record dead letter; retrying');
      await message.nak(backoffDelay(policy, message.deliveryCount));
      return;
    }
    log.error({ eventId: message.id, reason, deliveryCount: message.deliveryCount }, 'event dead-lettered');
    await message.term();
  };

  // Per message id, deliveries lost to an outage in this process (bounded; forgotten when settled).
  const outageDeliveries = new Map<string, number>();
  const settle = (id: string) => outageDeliveries.delete(id);

  const retryAfterOutage = async (message: DeliveredMessage, reason: string) => {
    if (outageDeliveries.size > 10_000) outageDeliveries.clear();
    outageDeliveries.set(message.id, (outageDeliveries.get(message.id) ?? 0) + 1);
    log.warn({ eventId: message.id, reason }, 'infrastructure unavailable; event will be retried');
    await message.nak(policy.maxDelayMs);
  };

  /**
   * The deliveries that count against `maxDeliver`: the broker's count less those lost to an
   * outage here and those that were deferrals. The store is asked only once the rest reach
   * `maxDeliver`, so the common path reads nothing.
   */
  const attemptsOf = async (message: DeliveredMessage): Promise<number> => {
    const attempts = message.deliveryCount - (outageDeliveries.get(message.id) ?? 0);
    if (attempts < policy.maxDeliver) return attempts;
    return attempts - (await options.deadLetters.deferrals(options.group, message.id));
  };

  return transport.subscribe(subscribeOptions, async (message) => {
    let attempts: number;
    try {
      attempts = await attemptsOf(message);
    } catch (error) {
      await retryAfterOutage(message, String(error));
      return;
    }
    if (attempts > policy.maxDeliver) {
      settle(message.id);
      await sendToDeadLetters(
        message,
        `not acknowledged after ${policy.maxDeliver} deliveries (handler crashed or exceeded the ack wait)`,
      );
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await handle(message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { kind: 'retry', reason, transient: isConnectionError(error) };
    }
    if (outcome.kind === 'ack') {
      settle(message.id);
      await message.ack();
    } else if (outcome.kind === 'dead-letter') {
      settle(message.id);
      await sendToDeadLetters(message, outcome.reason);
    } else if (outcome.transient) {
      await retryAfterOutage(message, outcome.reason);
    } else if (outcome.early) {
      let deferrals: number;
      try {
        deferrals = await options.deadLetters.defer(options.group, message.id);
      } catch (error) {
        await retryAfterOutage(message, String(error));
        return;
      }
      if (deferrals >= policy.maxEarlyDeliveries) {
        settle(message.id);
        await sendToDeadLetters(
          message,
          `gave up after ${deferrals} deliveries waiting for an earlier event: ${outcome.reason}`,
        );
      } else {
        const delay = backoffDelay(policy, deferrals);
        log.debug({ eventId: message.id, reason: outcome.reason, delay }, 'early event deferred');
        await message.nak(delay);
      }
    } else if (attempts >= policy.maxDeliver) {
      settle(message.id);
      await sendToDeadLetters(message, `gave up after ${attempts} deliveries: ${outcome.reason}`);
    } else {
      const delay = backoffDelay(policy, attempts);
      log.debug({ eventId: message.id, reason: outcome.reason, delay }, 'event will be retried');
      await message.nak(delay);
    }
  });
}

/** Dead letters kept in memory: for tests of the policy and the transports. */
export class MemoryDeadLetters implements DeadLetterStore {
  readonly letters: DeadLetter[] = [];
  private readonly deferred = new Map<string, number>();
  async record(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }
  async defer(consumer: string, eventId: string): Promise<number> {
    const count = (this.deferred.get(`${consumer}/${eventId}`) ?? 0) + 1;
    this.deferred.set(`${consumer}/${eventId}`, count);
    return count;
  }
  async deferrals(consumer: string, eventId: string): Promise<number> {
    return this.deferred.get(`${consumer}/${eventId}`) ?? 0;
  }
}
