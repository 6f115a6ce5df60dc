/**
 * The expiration scheduler: durable timers in Postgres tables, fired within a few milliseconds
 * of their due time and at least once a second: an order's window (`expiration:complete`) and a
 * ticket's event start (`expiration:event-started`).
 *
 * Why a table and not a job library: the timer is written in the same transaction as the inbox
 * row of the `order:created` that asked for it, and fired in the same transaction as the outbox row
 * of the `expiration:complete` it causes, so scheduling and firing are exactly-once with no second
 * source of truth. `FOR UPDATE SKIP LOCKED` lets any number of replicas share the table; a timer
 * already due at start (the service was down) fires at once.
 */
import { listenForNotifications, publishEvent, type Logger, type ServiceDatabase } from '@ticketing/common';
import {
  claimDueEventStarts,
  claimDueTimers,
  msUntilNextTimer,
  SCHEDULER_MAX_SLEEP_MS,
  TIMER_CHANNEL,
} from '../data-access/timers-repository.ts';

export interface SchedulerOptions {
  /**
   * Longest sleep between checks; bounds the lateness of a timer whose wake-up was missed. At
   * most `SCHEDULER_MAX_SLEEP_MS`, on which the listener relies to wake schedulers only for timers
   * due soon.
   */
  maxSleepMs?: number;
  batchSize?: number;
}

export class ExpirationScheduler {
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly notifications;
  private readonly maxSleepMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly logger: Logger,
    options: SchedulerOptions = {},
  ) {
    this.maxSleepMs = Math.min(options.maxSleepMs ?? SCHEDULER_MAX_SLEEP_MS, SCHEDULER_MAX_SLEEP_MS);
    this.batchSize = options.batchSize ?? 100;
    this.notifications = listenForNotifications(database.url, TIMER_CHANNEL, () => this.wake(), logger);
    this.loop = this.run();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    await this.notifications.close();
  }

  /** Fires every due timer, orders' and event starts'; returns how many fired. */
  async fireDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const [orders, starts] = await this.database.db.transaction(async (tx) => {
        const expired = await claimDueTimers(tx, this.batchSize);
        for (const orderId of expired) await publishEvent(tx, 'expiration:complete', { orderId });
        const started = await claimDueEventStarts(tx, this.batchSize);
        for (const { ticketId, startsAt } of started) {
          const event = { ticketId, startsAt: startsAt.toISOString() };
          await publishEvent(tx, 'expiration:event-started', event, ticketId);
        }
        return [expired.length, started.length];
      });
      fired += orders + starts;
      if (orders > 0) this.logger.info({ orders }, 'orders expired');
      if (starts > 0) this.logger.info({ tickets: starts }, 'events started');
      if (orders < this.batchSize && starts < this.batchSize) return fired;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let sleepMs = this.maxSleepMs;
      try {
        await this.fireDue();
        const next = await msUntilNextTimer(this.database.db);
        if (next !== undefined) sleepMs = Math.min(this.maxSleepMs, Math.max(0, Math.ceil(next)));
      } catch (error) {
        this.logger.warn({ err: error }, 'expiration scheduler cannot reach its database; retrying');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }
}
