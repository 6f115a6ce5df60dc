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
 * What the policy does with a delivery, decided from facts alone (the handler's outcome, the
 * event's ledger line): no input or output, so the whole policy is one table of cases
 * (consumer.test.ts). `consume` carries each decision out.
 */
export type Decision =
  /** Run the handler (a redelivery still within its budget of unanswered deliveries). */
  | { kind: 'run' }
  | { kind: 'ack' }
  /** Count this answer in the event's ledger line, then decide again with the counts. */
  | { kind: 'count'; answer: 'failure' | 'deferral' }
  /** Nak, to be redelivered after `delayMs`. */
  | { kind: 'retry'; delayMs: number }
  /**
   * The infrastructure failed, not the event: nak for the longest delay (`maxDelayMs`), and note the outage in
   * the ledger (not counted against the event, only so that it is not taken for a crash).
   */
  | { kind: 'outage' }
  | { kind: 'dead-letter'; reason: string };

/**
 * Before a redelivery runs: its ledger line (this delivery counted as begun) and the outages this
 * process met but could not note. Deliveries begun and never answered crashed their handler or
 * outlived the ack wait: `maxDeliver` of them and the event is given up.
 */
export function decideRedelivery(
  policy: RetryPolicy,
  counts: AttemptCounts,
  unnotedOutages: number,
): Decision {
  const answered = counts.failures + counts.deferrals + counts.outages;
  const unanswered = counts.started - answered - unnotedOutages;
  if (unanswered >= policy.maxDeliver)
    return {
      kind: 'dead-letter',
      reason: `not acknowledged after ${policy.maxDeliver} deliveries (handler crashed or exceeded the ack wait)`,
    };
  return { kind: 'run' };
}

/**
 * After the handler answered. An answer that counts (a failure, a deferral) is decided twice:
 * without `counts` ("count it"), then with the ledger's counts once it is counted (retry, or the
 * budget is spent).
 */
export function decideOutcome(policy: RetryPolicy, outcome: Outcome, counts?: AttemptCounts): Decision {
  if (outcome.kind === 'ack') return { kind: 'ack' };
  if (outcome.kind === 'dead-letter') return { kind: 'dead-letter', reason: outcome.reason };
  if (outcome.transient) return { kind: 'outage' };
  if (!counts) return { kind: 'count', answer: outcome.early ? 'deferral' : 'failure' };
  if (outcome.early) {
    if (counts.waitedMs >= policy.maxEarlyWaitMs && counts.deferrals >= policy.maxEarlyDeferrals)
      return {
        kind: 'dead-letter',
        reason: `gave up after ${counts.deferrals} deliveries waiting for an earlier event: ${outcome.reason}`,
      };
    return { kind: 'retry', delayMs: backoffDelay(policy, counts.deferrals) };
  }
  if (counts.failures >= policy.maxDeliver)
    return { kind: 'dead-letter', reason: `gave up after ${counts.failures} deliveries: ${outcome.reason}` };
  return { kind: 'retry', delayMs: backoffDelay(policy, counts.failures) };
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
 *
 * The decisions are `decideRedelivery` and `decideOutcome`; what follows only carries them out,
 * and falls back to "retry after an outage" whenever the ledger itself cannot be reached.
 */
export async function consume(
  transport: Transport,
  options: ConsumeOptions,
  handle: (message: DeliveredMessage) => Promise<Outcome>,
): Promise<Subscription> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const log = options.logger.child({ consumer: options.group, subject: options.subject });
  const ledger = options.deadLetters;
  // Per message id, outages this process met that the ledger could not note either (bounded;
  // forgotten when the event is settled).
  const unnotedOutages = new Map<string, number>();

  /** Settles the message: acked, or recorded as a dead letter and terminated. */
  const settle = async (
    message: DeliveredMessage,
    decision: Extract<Decision, { kind: 'ack' | 'dead-letter' }>,
    ledgered: boolean,
  ) => {
    if (decision.kind === 'dead-letter') {
      try {
        await ledger.record({
          consumer: options.group,
          subject: message.subject,
          eventId: message.id,
          body: message.body,
          reason: decision.reason,
          deliveryCount: message.deliveryCount,
        });
      } catch (error) {
        // Keep the message rather than lose it: it comes back and we try to record it again.
        log.error({ err: error, eventId: message.id }, 'could not record dead letter; retrying');
        await message.nak(backoffDelay(policy, message.deliveryCount));
        return;
      }
      log.error(
        { eventId: message.id, reason: decision.reason, deliveryCount: message.deliveryCount },
        'event dead-lettered',
      );
      await message.term();
    } else {
      await message.ack();
    }
    unnotedOutages.delete(message.id);
    if (ledgered) await ledger.forget(options.group, message.id).catch(() => {}); // purged later
  };

  /** The database (and so the ledger) is unreachable: retry later, noting the outage if it ran. */
  const retryAfterOutage = async (message: DeliveredMessage, reason: string, ran: boolean) => {
    if (ran) {
      const noted = await ledger
        .recordAnswer(options.group, message.id, 'outage')
        .then(() => true)
        .catch(() => false);
      if (!noted) {
        if (unnotedOutages.size > 10_000) unnotedOutages.clear();
        unnotedOutages.set(message.id, (unnotedOutages.get(message.id) ?? 0) + 1);
      }
    }
    log.warn({ eventId: message.id, reason }, 'infrastructure unavailable; event will be retried');
    await message.nak(policy.maxDelayMs);
  };
  const ledgerFailed = async (message: DeliveredMessage, error: unknown, ran: boolean) => {
    if (!isConnectionError(error)) log.error({ err: error, eventId: message.id }, 'attempt ledger failed');
    await retryAfterOutage(message, String(error), ran);
  };

  const subscribeOptions: SubscribeOptions = {
    group: options.group,
    subject: options.subject,
    ackWaitMs: policy.ackWaitMs,
    maxDeliver: -1,
    concurrency: options.concurrency ?? DEFAULT_LISTENER_CONCURRENCY,
  };
  return transport.subscribe(subscribeOptions, async (message) => {
    const redelivered = message.deliveryCount > 1;
    if (redelivered) {
      let counts: AttemptCounts;
      try {
        counts = await ledger.beginRedelivery(options.group, message.id);
      } catch (error) {
        // Without the ledger the handler does not run: the delivery is not counted anywhere.
        await ledgerFailed(message, error, false);
        return;
      }
      const before = decideRedelivery(policy, counts, unnotedOutages.get(message.id) ?? 0);
      if (before.kind === 'dead-letter') return settle(message, before, true);
    }
    let outcome: Outcome;
    try {
      outcome = await handle(message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { kind: 'retry', reason, transient: isConnectionError(error) };
    }
    const reason = outcome.kind === 'ack' ? '' : outcome.reason;
    let ledgered = redelivered;
    let decision = decideOutcome(policy, outcome);
    if (decision.kind === 'count') {
      let counts: AttemptCounts;
      try {
        counts = await ledger.recordAnswer(options.group, message.id, decision.answer);
      } catch (error) {
        await ledgerFailed(message, error, true);
        return;
      }
      ledgered = true;
      decision = decideOutcome(policy, outcome, counts);
    }
    switch (decision.kind) {
      case 'ack':
      case 'dead-letter':
        return settle(message, decision, ledgered);
      case 'outage':
        return retryAfterOutage(message, reason, true);
      case 'retry':
        log.debug({ eventId: message.id, reason, delay: decision.delayMs }, 'event will be retried');
        return message.nak(decision.delayMs);
      default:
        throw new Error(`no decision after the outcome: ${decision.kind}`);
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
