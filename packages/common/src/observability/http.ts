/**
 * HTTP observability for the Fastify server: a SERVER span per request (while tracing is on), the
 * request-duration histogram by service, route pattern, method and status, and `GET /metrics`.
 * `/metrics`, `/healthz` and `/readyz` are kept out of both (probes and scrapes are noise).
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { activeTracer, ATTR_TICKETING_SERVICE, extractContext, spanLogFields } from './tracing.ts';
import { collectProcessMetrics, metricsRegistry, observeHttpRequest, renderMetrics } from './metrics.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The service that registered the route (set by `tagServiceRoutes`). */
    service?: string;
  }
  interface FastifyRequest {
    /** The request's SERVER span, while tracing is on. */
    otelSpan: Span | null;
    otelContext: Context | null;
  }
}

const QUIET_ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * Probes and scrapes (`/healthz`, `/readyz`, `/metrics`): a supervisor or an orchestrator asks
 * every few seconds, so they are kept out of traces and request metrics, and logged at debug.
 */
export const isQuietRoute = (route: string | undefined): boolean =>
  route !== undefined && QUIET_ROUTES.has(route);
const kWrapped = Symbol('ticketing.otel.wrapped');

type Handler = RouteOptions['handler'] & { [kWrapped]?: true };

/**
 * Installs the hooks and `GET /metrics` (unless `metrics` is false: served elsewhere, or not at
 * all) on a new server; call before any route is registered. `service` labels the requests of
 * routes that no service registered (docs, health, the web client).
 */
export function installHttpObservability(
  app: FastifyInstance,
  options: { service: string; metrics?: boolean },
): void {
  collectProcessMetrics(options.service);
  app.decorateRequest('otelSpan', null);
  app.decorateRequest('otelContext', null);

  // The handler runs inside the request's span, so what it does (queries, publishEvent) is traced
  // under it; hooks run in the socket's context, which is why this wraps the handler itself.
  app.addHook('onRoute', (route) => {
    const handler = route.handler as Handler;
    if (handler[kWrapped]) return;
    const call = handler as (this: unknown, request: FastifyRequest, reply: unknown) => unknown;
    const wrapped = function (this: unknown, request: FastifyRequest, reply: unknown) {
      const ctx = request.otelContext;
      return ctx === null ? call.call(this, request, reply) : context.with(ctx, call, this, request, reply);
    } as Handler;
    wrapped[kWrapped] = true;
    route.handler = wrapped;
  });

  app.addHook('onRequest', (request, _reply, done) => {
    const tracer = activeTracer();
    if (tracer !== undefined) {
      const route = request.routeOptions.url;
      if (!isQuietRoute(route)) {
        const parent = extractContext(request.headers);
        const span = tracer.startSpan(
          route === undefined ? request.method : `${request.method} ${route}`,
          {
            kind: SpanKind.SERVER,
            attributes: {
              [ATTR_HTTP_REQUEST_METHOD]: request.method,
              [ATTR_URL_PATH]: request.url.split('?', 1)[0],
              [ATTR_TICKETING_SERVICE]: request.routeOptions.config.service ?? options.service,
              ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: route }),
            },
          },
          parent,
        );
        request.otelSpan = span;
        request.otelContext = trace.setSpan(parent, span);
      }
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (!isQuietRoute(route)) {
      observeHttpRequest(
        request.routeOptions.config.service ?? options.service,
        request.method,
        route ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    }
    // The span stays on the request for its log line (written after this hook).
    const span = request.otelSpan;
    if (span !== null && span.isRecording()) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });

  app.addHook('onRequestAbort', (request, done) => {
    const span = request.otelSpan;
    if (span !== null && span.isRecording()) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted by the client' });
      span.end();
    }
    done();
  });

  if (options.metrics !== false) serveMetrics(app);
}

/** `GET /metrics`: the process's metrics, in Prometheus' text format. */
export function serveMetrics(app: FastifyInstance): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metricsRegistry.contentType).send(await renderMetrics()),
  );
}

/** Labels the routes registered in `scope` (a service's plugin) with the service's name. */
export function tagServiceRoutes(scope: FastifyInstance, service: string): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, service };
  });
}

/** `{ trace_id, span_id }` of a request's span, for its log line. */
export function requestTraceFields(request: FastifyRequest): { trace_id?: string; span_id?: string } {
  return request.otelSpan === null ? {} : spanLogFields(request.otelSpan);
}
