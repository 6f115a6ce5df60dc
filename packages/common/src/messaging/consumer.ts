/**
 * What a consumer does with each delivery, the same on every transport: the handler's outcome maps
 * to ack (done, or already applied), retry with exponential backoff (an event from the future, a
 * transient failure), or dead letter (a poison message, or retries exhausted). Dead letters are
 * recorded where an operator can list them, logged, and then terminated so the rest keeps flowing.
 *
 * Four things go wrong, and each has its own budget:
 * - a failing handler (a bug, a constraint it trips) gets `maxDeliver` answered failures;
 * - a handler that never answers (it crashes the process or exceeds the ack wait) gets
 *   `maxDeliver` unanswered deliveries;
 * - an event from the future (`early`: the version it builds on has not been applied yet) waits
 *   for its predecessor, which may be held up far longer than a handler retry (it travels on
 *   another durable, or its producer's relay is waiting out a broker outage): up to
 *   `maxEarlyWaitMs` from its first deferral, over at least `maxEarlyDeferrals` deferrals;
 * - an infrastructure outage (the database unreachable) is not held against the event at all.
 *
 * The counts behind these budgets are kept in the store's attempt ledger, not in memory: the
 * broker's delivery count is shared by every replica of the consumer, and an event can bounce
 * between replicas and across restarts. The ledger is read and written on redeliveries and
 * failures only; the first delivery of an event that succeeds touches nothing but its inbox row.
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

export type Answer = 'failure' | 'deferral' | 'outage';

/** An event's line in a consumer's attempt ledger. */
export interface AttemptCounts {
  /** Deliveries begun after the first. */
  started: number;
  /** Deliveries answered with a handler failure. */
  failures: number;
  /** Deliveries answered "too early". */
  deferrals: number;
  /** Deliveries whose handler met an outage, as far as they could be noted. */
  outages: number;
  /** Since the first deferral (0 if none). */
  waitedMs: number;
}

/** Where a consumer keeps what it gave up on, and its attempt ledger. */
export interface DeadLetterStore {
  record(letter: DeadLetter): Promise<void>;
  /** Counts a redelivery as begun; returns the event's counts with it. */
  beginRedelivery(consumer: string, eventId: string): Promise<AttemptCounts>;
  /** Counts a delivery answered with a failure, a deferral or an outage; returns the counts with it. */
  recordAnswer(consumer: string, eventId: string, answer: Answer): Promise<AttemptCounts>;
  /** Drops the event's line once it is settled (acked or dead-lettered). */
  forget(consumer: string, eventId: string): Promise<void>;
}

export interface RetryPolicy {
  /** Handler failures, and unanswered deliveries, before giving up and dead-lettering. */
  maxDeliver: number;
  /**
   * An early event is given up on once it has waited this long since its first deferral and been
   * deferred at least `maxEarlyDeferrals` times: an outage, during which nothing is deferred, does
   * not use up its wait.
   */
  maxEarlyWaitMs: number;
  maxEarlyDeferrals: number;
  ackWaitMs: number;
  /** Delay before the n-th retry: baseDelayMs · 2^(n-1), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxDeliver: 10,
  maxEarlyWaitMs: 30 * 60_000,
  maxEarlyDeferrals: 120,
  ackWaitMs: 30_000,
  baseDelayMs: 50,
  maxDelayMs: 5_000,
};

export function backoffDelay(policy: RetryPolicy, deliveryCount: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * Deliveries a subscriber holds at once. Its listener applies them in a few shared transactions
 * (`ListenerQueue`), so this bounds the size of those batches, not the connections they take.
 */
export const DEFAULT_LISTENER_CONCURRENCY = 32;

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
    concurrency: options.concurrency ?? DEFAULT_LISTENER_CONCURRENCY,
  };

  /** True once the letter is recorded and the message terminated. */
  const sendToDeadLetters = async (message: DeliveredMessage, reason: string): Promise<boolean> => {
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
      return false;
    }
    log.error({ eventId: message.id, reason, deliveryCount: message.deliveryCount }, 'event dead-lettered');
    await message.term();
    return true;
  };
  const giveUp = async (message: DeliveredMessage, reason: string, ledgered: boolean) => {
    if (await sendToDeadLetters(message, reason)) await settle(message, ledgered);
  };

  // Per message id, deliveries of this process that ran into an outage and could not be noted in
  // the ledger either (bounded; forgotten when settled).
  const outageDeliveries = new Map<string, number>();
  const settle = async (message: DeliveredMessage, ledgered: boolean) => {
    outageDeliveries.delete(message.id);
    if (ledgered) await options.deadLetters.forget(options.group, message.id).catch(() => {}); // purged later
  };

  /** `ran`: the handler ran (or its answer was lost), so the delivery must be noted as answered. */
  const retryAfterOutage = async (message: DeliveredMessage, reason: string, ran: boolean) => {
    if (ran) {
      const noted = await options.deadLetters
        .recordAnswer(options.group, message.id, 'outage')
        .then(() => true)
        .catch(() => false);
      if (!noted) {
        if (outageDeliveries.size > 10_000) outageDeliveries.clear();
        outageDeliveries.set(message.id, (outageDeliveries.get(message.id) ?? 0) + 1);
      }
    }
    log.warn({ eventId: message.id, reason }, 'infrastructure unavailable; event will be retried');
    await message.nak(policy.maxDelayMs);
  };
  const ledgerFailed = async (message: DeliveredMessage, error: unknown, ran: boolean) => {
    if (!isConnectionError(error)) log.error({ err: error, eventId: message.id }, 'attempt ledger failed');
    await retryAfterOutage(message, String(error), ran);
  };

  return transport.subscribe(subscribeOptions, async (message) => {
    const redelivered = message.deliveryCount > 1;
    if (redelivered) {
      let counts: AttemptCounts;
      try {
        counts = await options.deadLetters.beginRedelivery(options.group, message.id);
      } catch (error) {
        // Without the ledger the handler does not run: the delivery is not counted anywhere.
        await ledgerFailed(message, error, false);
        return;
      }
      const answered = counts.failures + counts.deferrals + counts.outages;
      const unanswered = counts.started - answered - (outageDeliveries.get(message.id) ?? 0);
      if (unanswered >= policy.maxDeliver) {
        const reason = `not acknowledged after ${policy.maxDeliver} deliveries (handler crashed or exceeded the ack wait)`;
        await giveUp(message, reason, true);
        return;
      }
    }
    let outcome: Outcome;
    try {
      outcome = await handle(message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { kind: 'retry', reason, transient: isConnectionError(error) };
    }
    if (outcome.kind === 'ack') {
      await message.ack();
      await settle(message, redelivered);
      return;
    }
    if (outcome.kind === 'dead-letter') {
      await giveUp(message, outcome.reason, redelivered);
      return;
    }
    if (outcome.transient) {
      await retryAfterOutage(message, outcome.reason, true);
      return;
    }
    let counts: AttemptCounts;
    try {
      counts = await options.deadLetters.recordAnswer(
        options.group,
        message.id,
        outcome.early ? 'deferral' : 'failure',
      );
    } catch (error) {
      await ledgerFailed(message, error, true);
      return;
    }
    const waitedOut =
      counts.waitedMs >= policy.maxEarlyWaitMs && counts.deferrals >= policy.maxEarlyDeferrals;
    if (outcome.early && waitedOut) {
      const reason = `gave up after ${counts.deferrals} deliveries waiting for an earlier event: ${outcome.reason}`;
      await giveUp(message, reason, true);
    } else if (!outcome.early && counts.failures >= policy.maxDeliver) {
      await giveUp(message, `gave up after ${counts.failures} deliveries: ${outcome.reason}`, true);
    } else {
      const delay = backoffDelay(policy, outcome.early ? counts.deferrals : counts.failures);
      log.debug({ eventId: message.id, reason: outcome.reason, delay }, 'event will be retried');
      await message.nak(delay);
    }
  });
}

/** Dead letters and the attempt ledger kept in memory: for tests of the policy and the transports. */
export class MemoryDeadLetters implements DeadLetterStore {
  readonly letters: DeadLetter[] = [];
  private readonly ledger = new Map<string, AttemptCounts & { firstDeferredAt?: number }>();
  async record(letter: DeadLetter): Promise<void> {
    const known = this.letters.some((l) => l.consumer === letter.consumer && l.eventId === letter.eventId);
    if (!known) this.letters.push(letter); // once per consumer, as in the database
  }
  async beginRedelivery(consumer: string, eventId: string): Promise<AttemptCounts> {
    const line = this.line(consumer, eventId);
    line.started += 1;
    return this.counts(line);
  }
  async recordAnswer(consumer: string, eventId: string, answer: Answer): Promise<AttemptCounts> {
    const line = this.line(consumer, eventId);
    if (answer === 'failure') line.failures += 1;
    else if (answer === 'outage') line.outages += 1;
    else {
      line.deferrals += 1;
      line.firstDeferredAt ??= Date.now();
    }
    return this.counts(line);
  }
  async forget(consumer: string, eventId: string): Promise<void> {
    this.ledger.delete(`${consumer}/${eventId}`);
  }
  private line(consumer: string, eventId: string) {
    const key = `${consumer}/${eventId}`;
    let line = this.ledger.get(key);
    if (!line)
      this.ledger.set(key, (line = { started: 0, failures: 0, deferrals: 0, outages: 0, waitedMs: 0 }));
    return line;
  }
  private counts(line: AttemptCounts & { firstDeferredAt?: number }): AttemptCounts {
    const waitedMs = line.firstDeferredAt === undefined ? 0 : Date.now() - line.firstDeferredAt;
    const { started, failures, deferrals, outages } = line;
    return { started, failures, deferrals, outages, waitedMs };
  }
}
