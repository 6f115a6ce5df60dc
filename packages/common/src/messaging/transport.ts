/**
 * The event bus seen by services: at-least-once delivery to durable consumer groups, with explicit
 * ack, nak (optionally after a delay), an ack deadline after which an unacknowledged delivery is
 * redelivered, and a bound on deliveries. Two implementations pass one contract suite
 * (test/transport-contract.ts): NATS JetStream for production, an in-process bus for the
 * one-process mode.
 */
export interface DeliveredMessage {
  /** The event id: the broker's de-duplication key. */
  readonly id: string;
  readonly subject: string;
  /** The decoded JSON body, untrusted until validated. */
  readonly body: unknown;
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  readonly deliveryCount: number;
  ack(): Promise<void>;
  /** Ask for redelivery, no sooner than `delayMs` from now. */
  nak(delayMs?: number): Promise<void>;
  /** Never deliver this message again (it was dead-lettered). */
  term(): Promise<void>;
}

export type MessageHandler = (message: DeliveredMessage) => Promise<void>;

export interface SubscribeOptions {
  /**
   * The consumer group (the service name). Every replica of a service subscribes with the same
   * group and the group shares the work; every group receives every message.
   */
  group: string;
  subject: string;
  /** Redeliver a delivery that is neither acked nor naked within this time. */
  ackWaitMs: number;
  /** The broker stops delivering a message after this many deliveries; -1 for never. */
  maxDeliver: number;
  /** Deliveries handled at once by this subscriber. 1 keeps strict order. */
  concurrency: number;
}

export interface Subscription {
  /** Stops taking deliveries and waits for the ones in flight to finish. */
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'in-process' | 'jetstream';
  /**
   * Resolves once the bus has taken responsibility for the message: JetStream has stored it; the
   * in-process bus, which keeps nothing across a restart, has had it handled by every group. The
   * outbox marks a row sent only after that, so nothing committed is ever lost. Re-publishing an
   * id already seen is a no-op.
   */
  publish(subject: string, id: string, body: unknown): Promise<void>;
  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription>;
  /** Whether the broker is reachable right now (for `/readyz`). */
  isHealthy(): boolean;
  /** Per consumer group and subject, messages not settled yet (for `/metrics`, at scrape time). */
  pendingCounts?(): Promise<ConsumerPending[]>;
  close(): Promise<void>;
}

export interface ConsumerPending {
  group: string;
  subject: string;
  /** Waiting for a delivery plus delivered and not yet acknowledged. */
  pending: number;
}

/** NATS subject for an event type: `ticket:updated` → `<prefix>.ticket.updated`. */
export function subjectFor(prefix: string, type: string): string {
  return `${prefix}.${type.replace(/:/g, '.')}`;
}

/** Consumer names allow letters, digits, `-` and `_` only. */
export function durableName(group: string, subject: string): string {
  return `${group}__${subject}`.replace(/[^a-zA-Z0-9_-]/g, '-');
}
