/**
 * Traces across HTTP and events, with OpenTelemetry.
 *
 * Off unless a tracer provider is installed: `startTracingFromEnv` installs one exporting by OTLP
 * when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (tests install their own with `installTracing`).
 * While off, every hook below is one `undefined` check: no span object, no context switch, no
 * extra field in the envelope.
 *
 * While on, one trace follows a request through the events it causes:
 * - an HTTP request is a SERVER span (`POST /api/orders`), continuing an incoming `traceparent`;
 * - an event made inside a span carries that span's context in its envelope (`traceparent`, stamped
 *   by `makeEvent`), so `publishEvent` stores it with the outbox row and it survives the outbox;
 * - the relay publishes the row under a PRODUCER span `send <type>`, child of that context (it
 *   shows the time the event waited in the outbox and the bus's publish; see `observeTransport` in
 *   transport.ts, which traces the messaging side);
 * - each consumer handles the delivery in a CONSUMER span `handle <type>` whose parent is the
 *   envelope's `traceparent`; the events its handler publishes are its children, and so on.
 * The active span travels with AsyncLocalStorage, so nothing has to be passed by hand.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** Set while tracing is on; `undefined` is the whole cost of the hooks while it is off. */
let tracer: Tracer | undefined;
const propagator = new W3CTraceContextPropagator();

/** The service a span belongs to (in the one-process mode every service shares one resource). */
export const ATTR_TICKETING_SERVICE = 'ticketing.service';
/** What the consumer did with the delivery: ack, retry (nak) or dead-letter (term). */
export const ATTR_TICKETING_OUTCOME = 'ticketing.outcome';

export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

/** The tracer while tracing is on (for the HTTP hooks). */
export function activeTracer(): Tracer | undefined {
  return tracer;
}

/**
 * Turns tracing on with `provider`: registers it globally with an AsyncLocalStorage context
 * manager and the W3C trace-context propagator. Returns the function that turns it off again
 * (it does not shut the provider down).
 */
export function installTracing(provider: TracerProvider): () => void {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownContext = context.setGlobalContextManager(contextManager);
  if (!ownContext) contextManager.disable(); // one was there already: keep using it
  const ownPropagator = propagation.setGlobalPropagator(propagator);
  const ownProvider = trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer('@ticketing/common');
  return () => {
    tracer = undefined;
    if (ownProvider) trace.disable();
    if (ownPropagator) propagation.disable();
    if (ownContext) context.disable();
  };
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes the spans not exported yet and turns tracing off. */
  shutdown(): Promise<void>;
}

/**
 * Tracing for a process, from its environment: on, exporting by OTLP over HTTP, when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and
 * `OTEL_SDK_DISABLED` is not `true`; off otherwise, without loading the SDK at all. The service
 * name is `OTEL_SERVICE_NAME`, else `serviceName`. The exporter reads its own settings
 * (`OTEL_EXPORTER_OTLP_HEADERS`, timeouts...) from the environment.
 */
export async function startTracingFromEnv(serviceName: string, env = process.env): Promise<Tracing> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true') return { enabled: false, shutdown: async () => {} };
  const [{ BasicTracerProvider, BatchSpanProcessor }, { resourceFromAttributes }, { OTLPTraceExporter }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
  const { ATTR_SERVICE_NAME } = await import('@opentelemetry/semantic-conventions');
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  const uninstall = installTracing(provider);
  return {
    enabled: true,
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        uninstall();
      }
    },
  };
}

type Carrier = Record<string, unknown>;
const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
  },
};
const setter: TextMapSetter<Carrier> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** Reads a `traceparent` (and `tracestate`) from a carrier: HTTP headers, an envelope... */
export function extractContext(carrier: Carrier): Context {
  return propagator.extract(ROOT_CONTEXT, carrier, getter);
}

function traceparentOf(ctx: Context): string | undefined {
  const carrier: Carrier = {};
  propagator.inject(ctx, carrier, setter);
  return typeof carrier.traceparent === 'string' ? carrier.traceparent : undefined;
}

/**
 * The `traceparent` of the active span, while tracing is on and there is one. `makeEvent` stamps
 * it on every envelope, so `publishEvent` stores it with the outbox row.
 */
export function currentTraceparent(): string | undefined {
  return tracer === undefined ? undefined : traceparentOf(context.active());
}

/** Ends `span` when `work` settles, with an error status if it fails. */
export function endWith<T>(span: Span, work: Promise<T>): Promise<T> {
  return work.then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => {
      failSpan(span, error);
      span.end();
      throw error;
    },
  );
}

export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Log fields of the active span, for pino's `mixin`: `{ trace_id, span_id }` inside a span, `{}`
 * outside one. Uses the API only: it works whether or not an SDK is installed.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  return span ? spanLogFields(span) : {};
}

export function spanLogFields(span: Span): { trace_id?: string; span_id?: string } {
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : {};
}
