/**
 * The in-process bus: JetStream's consumer semantics (durable groups, ack/nak with delay, ack
 * deadline, bounded deliveries, de-duplication by id) inside one Node process, for the one-process
 * marketplace and fast tests.
 *
 * It keeps nothing on disk. Its durability comes from the outboxes: `publish` resolves only when
 * every group has settled the message, so an outbox row is marked sent only once every consumer
 * has handled it; a killed process re-publishes the unsent rows after its restart.
 *
 * Retention is by interest: a message is kept until each group that existed when it was published
 * settles it. A message published to a subject that has no group yet waits for the first one.
 */
import type {
  ConsumerPending,
  DeliveredMessage,
  MessageHandler,
  SubscribeOptions,
  Subscription,
  Transport,
} from './transport.ts';

interface Published {
  id: string;
  subject: string;
  body: string; // serialised, so no consumer ever shares an object with the publisher
  unsettledGroups: number;
  settled: () => void;
  failed: (error: Error) => void;
}

interface Entry {
  message: Published;
  deliveries: number;
  /** Bumped on each delivery; a timer or ack from an older delivery is ignored. */
  attempt: number;
  done: boolean;
  timer?: NodeJS.Timeout;
}

interface Worker {
  handler: MessageHandler;
  concurrency: number;
  active: number;
  closed: boolean;
  idle?: () => void;
}

class Group {
  readonly ready: Entry[] = [];
  readonly workers: Worker[] = [];
  /** Entries enqueued and not settled: waiting, in flight or waiting out a nak delay (metrics). */
  unsettled = 0;
  private nextWorker = 0;

  constructor(
    readonly name: string,
    readonly subject: string,
    private options: Pick<SubscribeOptions, 'ackWaitMs' | 'maxDeliver'>,
  ) {}

  configure(options: Pick<SubscribeOptions, 'ackWaitMs' | 'maxDeliver'>): void {
    this.options = options;
  }

  enqueue(message: Published): void {
    this.unsettled += 1;
    this.ready.push({ message, deliveries: 0, attempt: 0, done: false });
    this.dispatch();
  }

  /** Hands ready entries to workers with a free slot, round robin, in order. */
  dispatch(): void {
    while (this.ready.length > 0) {
      const worker = this.freeWorker();
      if (!worker) return;
      this.deliver(this.ready.shift()!, worker);
    }
  }

  private freeWorker(): Worker | undefined {
    for (let i = 0; i < this.workers.length; i++) {
      const worker = this.workers[(this.nextWorker + i) % this.workers.length]!;
      if (!worker.closed && worker.active < worker.concurrency) {
        this.nextWorker = (this.nextWorker + i + 1) % this.workers.length;
        return worker;
      }
    }
    return undefined;
  }

  private deliver(entry: Entry, worker: Worker): void {
    entry.deliveries += 1;
    const attempt = ++entry.attempt;
    worker.active += 1;
    const current = () => !entry.done && entry.attempt === attempt;
    entry.timer = setTimeout(() => {
      if (current()) this.redeliver(entry, 0); // ack deadline passed
    }, this.options.ackWaitMs);

    let answered = false;
    const answer = (fn: () => void) => async () => {
      if (answered) return;
      answered = true;
      fn();
    };
    const message: DeliveredMessage = {
      id: entry.message.id,
      subject: entry.message.subject,
      body: JSON.parse(entry.message.body) as unknown,
      deliveryCount: entry.deliveries,
      ack: answer(() => this.settle(entry)),
      term: answer(() => this.settle(entry)),
      nak: (delayMs = 0) => answer(() => current() && this.redeliver(entry, delayMs))(),
    };
    const release = () => {
      worker.active -= 1;
      if (worker.closed && worker.active === 0) worker.idle?.();
      this.dispatch();
    };
    // A handler that throws without answering is naked at once, as JetStream clients do.
    worker
      .handler(message)
      .catch(() => message.nak())
      .finally(release);
  }

  private redeliver(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.attempt += 1; // invalidates the previous delivery's timer and answers
    if (this.options.maxDeliver > 0 && entry.deliveries >= this.options.maxDeliver) {
      this.settle(entry); // exhausted: the broker gives up; consumers dead-letter before this
      return;
    }
    const requeue = () => {
      if (entry.done) return;
      this.ready.unshift(entry);
      this.dispatch();
    };
    if (delayMs > 0) entry.timer = setTimeout(requeue, delayMs);
    else requeue();
  }

  private settle(entry: Entry): void {
    if (entry.done) return;
    entry.done = true;
    this.unsettled -= 1;
    clearTimeout(entry.timer);
    entry.message.unsettledGroups -= 1;
    if (entry.message.unsettledGroups === 0) entry.message.settled();
  }

  drop(error: Error): void {
    for (const entry of this.ready) entry.message.failed(error);
    this.ready.length = 0;
  }
}

export interface InProcessBusOptions {
  /** How long a published id is remembered for de-duplication (JetStream's duplicate window). */
  duplicateWindowMs?: number;
}

export class InProcessBus implements Transport {
  readonly kind = 'in-process' as const;
  private readonly groups = new Map<string, Map<string, Group>>(); // subject → group name → group
  private readonly waitingForGroup = new Map<string, Published[]>(); // subject → messages
  private readonly recentIds = new Map<string, { at: number; done: Promise<void> }>();
  private readonly pending = new Set<Published>();
  private readonly duplicateWindowMs: number;
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
  }

  publish(subject: string, id: string, body: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new Error('in-process bus is closed'));
    const now = Date.now();
    this.forgetOldIds(now);
    const seen = this.recentIds.get(id);
    if (seen) return seen.done;

    const done = new Promise<void>((resolve, reject) => {
      const message: Published = {
        id,
        subject,
        body: JSON.stringify(body),
        unsettledGroups: 0,
        settled: () => {
          this.pending.delete(message);
          resolve();
        },
        failed: (error) => {
          this.pending.delete(message);
          reject(error);
        },
      };
      this.pending.add(message);
      const groups = [...(this.groups.get(subject)?.values() ?? [])];
      if (groups.length === 0) {
        message.unsettledGroups = 1;
        const waiting = this.waitingForGroup.get(subject) ?? [];
        waiting.push(message);
        this.waitingForGroup.set(subject, waiting);
        return;
      }
      message.unsettledGroups = groups.length;
      for (const group of groups) group.enqueue(message);
    });
    this.recentIds.set(id, { at: now, done });
    return done;
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    if (this.closed) throw new Error('in-process bus is closed');
    const bySubject = this.groups.get(options.subject) ?? new Map<string, Group>();
    this.groups.set(options.subject, bySubject);
    let group = bySubject.get(options.group);
    if (!group) {
      group = new Group(options.group, options.subject, options);
      bySubject.set(options.group, group);
      const waiting = this.waitingForGroup.get(options.subject) ?? [];
      this.waitingForGroup.delete(options.subject);
      for (const message of waiting) group.enqueue(message);
    } else {
      group.configure(options);
    }
    const worker: Worker = {
      handler,
      concurrency: Math.max(1, options.concurrency),
      active: 0,
      closed: false,
    };
    group.workers.push(worker);
    group.dispatch();
    const owner = group;
    return {
      close: async () => {
        if (worker.closed) return;
        worker.closed = true;
        owner.workers.splice(owner.workers.indexOf(worker), 1);
        if (worker.active > 0) await new Promise<void>((resolve) => (worker.idle = resolve));
      },
    };
  }

  isHealthy(): boolean {
    return !this.closed;
  }

  async pendingCounts(): Promise<ConsumerPending[]> {
    const counts: ConsumerPending[] = [];
    for (const [subject, bySubject] of this.groups) {
      for (const group of bySubject.values()) {
        counts.push({ group: group.name, subject, pending: group.unsettled });
      }
    }
    return counts;
  }

  /**
   * Rejects every unsettled publish, so no outbox row is marked sent for a message that was not
   * handled; the rows are published again by the next process.
   */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('in-process bus closed before the message was handled');
    for (const bySubject of this.groups.values()) for (const group of bySubject.values()) group.drop(error);
    for (const message of [...this.pending]) message.failed(error);
  }

  private forgetOldIds(now: number): void {
    if (this.recentIds.size < 10_000) return;
    for (const [id, seen] of this.recentIds) {
      if (now - seen.at < this.duplicateWindowMs) break; // insertion order is time order
      this.recentIds.delete(id);
    }
  }
}
