/**
 * A service's view of the bus, observed. `prepareService` hands its relay and its listeners this
 * wrapper instead of the bare transport, so the messaging code itself carries no hooks:
 *
 * - each publish (the outbox relay's) is counted once the bus accepted it, by service and event
 *   type, and, while tracing is on, traced as `send <type>` under the envelope's `traceparent`;
 * - each delivery is counted by what the consumer answered: ack (handled), nak (retried), term
 *   (dead-lettered: the consumer terminates a message only once its dead letter is recorded);
 *   while tracing is on it is handled inside a `handle <type>` span continuing the envelope's
 *   `traceparent`, which records the answer as `ticketing.outcome`.
 *
 * While tracing is off the per-event cost is a counter increment and one small object per delivery.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import type { DeliveredMessage, MessageHandler, Transport } from '../messaging/transport.ts';
import { consumerMetrics, publishedCounter, type ConsumerMetrics } from './metrics.ts';
import {
  activeTracer,
  ATTR_TICKETING_OUTCOME,
  ATTR_TICKETING_SERVICE,
  endWith,
  extractContext,
} from './tracing.ts';

/** Messaging attributes (semantic conventions, still "incubating", so spelled out here). */
export const MessagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  deliveryCount: 'messaging.delivery_count',
} as const;

export function observeTransport(transport: Transport, service: string): Transport {
  const published = new Map<string, () => void>(); // counter by event type
  return {
    kind: transport.kind,
    async publish(subject, id, body) {
      await traceEventSend(service, transport.kind, { subject, id, body }, () =>
        transport.publish(subject, id, body),
      );
      let count = published.get(subject);
      if (count === undefined) published.set(subject, (count = publishedCounter(service, subject)));
      count();
    },
    subscribe(options, handler) {
      const metrics = consumerMetrics(options.group, options.subject);
      const observed: MessageHandler = (message) =>
        traceDelivery(transport.kind, options.group, message, (span) =>
          handler(answered(message, metrics, span)),
        ) ?? handler(answered(message, metrics));
      return transport.subscribe(options, observed);
    },
    isHealthy: () => transport.isHealthy(),
    pendingCounts: () => transport.pendingCounts?.() ?? Promise.resolve([]),
    close: () => transport.close(),
  };
}

/** The delivery, with its answers counted (and recorded on the span, if any). */
function answered(message: DeliveredMessage, metrics: ConsumerMetrics, span?: Span): DeliveredMessage {
  return {
    id: message.id,
    subject: message.subject,
    body: message.body,
    deliveryCount: message.deliveryCount,
    async ack() {
      span?.setAttribute(ATTR_TICKETING_OUTCOME, 'ack');
      await message.ack();
      metrics.handled();
    },
    async nak(delayMs?: number) {
      span?.setAttribute(ATTR_TICKETING_OUTCOME, 'retry');
      await message.nak(delayMs);
      metrics.retried();
    },
    async term() {
      span?.setAttribute(ATTR_TICKETING_OUTCOME, 'dead-letter');
      span?.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
      await message.term();
      metrics.deadLettered();
    },
  };
}

function messagingSystem(kind: Transport['kind'] | undefined): string {
  return kind === 'jetstream' ? 'nats' : 'ticketing_in_process';
}

/** The envelope's `traceparent`, when it carries one (envelopes may come without). */
function envelopeTraceparent(body: unknown): string | undefined {
  const value = (body as { traceparent?: unknown } | null | undefined)?.traceparent;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Around the relay's publish of one outbox row (see `observeTransport`): a PRODUCER span
 * `send <type>` continuing the envelope's `traceparent`. Envelopes without one go untraced.
 */
export function traceEventSend<T>(
  service: string,
  transportKind: Transport['kind'],
  message: { subject: string; id: string; body: unknown },
  publish: () => Promise<T>,
): Promise<T> {
  const tracer = activeTracer();
  if (tracer === undefined) return publish();
  const traceparent = envelopeTraceparent(message.body);
  if (traceparent === undefined) return publish();
  const parent = extractContext({ traceparent });
  const span = tracer.startSpan(
    `send ${message.subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [MessagingAttributes.system]: messagingSystem(transportKind),
        [MessagingAttributes.operationType]: 'send',
        [MessagingAttributes.operationName]: 'send',
        [MessagingAttributes.destination]: message.subject,
        [MessagingAttributes.messageId]: message.id,
        [ATTR_TICKETING_SERVICE]: service,
      },
    },
    parent,
  );
  return endWith(span, context.with(trace.setSpan(parent, span), publish));
}

/**
 * Around the handling of one delivery (see `observeTransport`): a CONSUMER span `handle <type>` for
 * the group, child of the envelope's `traceparent` (a new trace without one), active while the
 * handler runs, so the events the handler publishes continue the trace. `handle` gets the span to
 * record what became of the delivery. `undefined` while tracing is off: the caller goes untraced.
 */
export function traceDelivery(
  transportKind: Transport['kind'],
  group: string,
  message: DeliveredMessage,
  handle: (span: Span) => Promise<void>,
): Promise<void> | undefined {
  const tracer = activeTracer();
  if (tracer === undefined) return undefined;
  const traceparent = envelopeTraceparent(message.body);
  const parent = traceparent === undefined ? ROOT_CONTEXT : extractContext({ traceparent });
  const attributes: Attributes = {
    [MessagingAttributes.system]: messagingSystem(transportKind),
    [MessagingAttributes.operationType]: 'process',
    [MessagingAttributes.operationName]: 'handle',
    [MessagingAttributes.destination]: message.subject,
    [MessagingAttributes.consumerGroup]: group,
    [MessagingAttributes.messageId]: message.id,
    [MessagingAttributes.deliveryCount]: message.deliveryCount,
    [ATTR_TICKETING_SERVICE]: group,
  };
  const span = tracer.startSpan(`handle ${message.subject}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  return endWith(
    span,
    context.with(trace.setSpan(parent, span), () => handle(span)),
  );
}
