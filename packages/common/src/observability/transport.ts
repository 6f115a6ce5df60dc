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
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { DeliveredMessage, MessageHandler, Transport } from '../messaging/transport.ts';
import { consumerMetrics, publishedCounter, type ConsumerMetrics } from './metrics.ts';
import { ATTR_TICKETING_OUTCOME, traceDelivery, traceEventSend } from './tracing.ts';

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
