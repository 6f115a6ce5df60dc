/**
 * What a consumer does with each delivery, the same on every transport: the handler's outcome maps
 * to ack (done, or already applied), retry with exponential backoff (an event from the future, a
 * transient failure), or dead letter (a poison message, or retries exhausted). Dead letters are
 * recorded where an operator can list them, logged, and then terminated so the rest keeps flowing.
 */
import type { Logger } from 'pino';
import { isConnectionError } from '../db/database.ts';
import type { DeliveredMessage, SubscribeOptions, Subscription, Transport } from './transport.ts';

export type Outcome =
  | { kind: 'ack' }
  /** `transient`: the infrastructure failed (database unreachable), not the event; it does not count. */
  | { kind: 'retry'; reason: string; transient?: boolean }
  | { kind: 'dead-letter'; reason: string };

export const ack: Outcome = { kind: 'ack' };
export const retry = (reason: string): Outcome => ({ kind: 'retry', reason });
export const deadLetter = (reason: string): Outcome => ({ kind: 'dead-letter', reason });

export interface DeadLetter {
  consumer: string;
  subject: string;
  eventId: string;
  body: unknown;
  reason: string;
  deliveryCount: number;
}

export interface DeadLetterStore {
  record(letter: DeadLetter): Promise<void>;
}

export interface RetryPolicy {
  /** Deliveries before giving up and dead-lettering. */
  maxDeliver: number;
  ackWaitMs: number;
  /** Delay before the n-th redelivery: baseDelayMs · 2^(n-1), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxDeliver: 10,
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

  return transport.subscribe(subscribeOptions, async (message) => {
    const attempts = message.deliveryCount - (outageDeliveries.get(message.id) ?? 0);
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
      if (outageDeliveries.size > 10_000) outageDeliveries.clear();
      outageDeliveries.set(message.id, (outageDeliveries.get(message.id) ?? 0) + 1);
      log.warn({ eventId: message.id, reason: outcome.reason }, 'infrastructure unavailable; event will be retried');
      await message.nak(policy.maxDelayMs);
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
  async record(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }
}
