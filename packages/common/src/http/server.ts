/**
 * The HTTP server every service (and the one-process marketplace) is built on: Fastify with TypeBox
 * schemas, the shared error renderer, the session, one log line per request, OpenAPI docs, and the
 * health routes. Services add their routes as plugins.
 */
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchemaCompiler,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv, type ErrorObject, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { levels } from 'pino';
import { HttpError, type ErrorItem } from '../errors.ts';
import { SESSION_COOKIE, sessionPlugin, type SessionOptions } from './session.ts';
import { apiClientErrorHandler, apiFrameworkErrors } from './client-errors.ts';
import { installHttpObservability, isQuietRoute, requestTraceFields } from '../observability/http.ts';
import { documentFrameworkErrors, ErrorBody, refuseSchemaNameClashes, swaggerOptions } from './openapi.ts';
import {
  DEVELOPMENT_HARDENING,
  installSecurityHeaders,
  noStoreForSessions,
  refuseCrossSiteWrites,
  timeoutOptions,
  type HttpHardening,
} from './hardening.ts';
import {
  installRateLimits,
  TooManyRequestsError,
  type RateLimitOptions,
  type TrustProxy,
} from './rate-limit.ts';

export type HttpApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpServerOptions extends SessionOptions {
  logger: FastifyBaseLogger;
  /** Readiness checks by name (database, bus...); `/readyz` is 200 only when all pass. */
  readiness: Record<string, () => Promise<boolean>>;
  /** Title of the OpenAPI document served at /api/docs. */
  title: string;
  /** Metrics and traces label for requests of routes no service registered (docs, health). */
  service?: string;
  /** Timeouts, headers and what is exposed (`hardeningFromConfig`); development's by default. */
  hardening?: Partial<HttpHardening>;
  /** Fastify's `trustProxy`: which proxies may name the client in `X-Forwarded-For` (`TRUST_PROXY`). */
  trustProxy?: TrustProxy;
  /** Where rate limits count, and the ceiling per address; absent: in memory, no ceiling. */
  rateLimits?: RateLimitOptions;
}

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
    // `multipleOf: 0.01` (a price's cents) of a float: 19.99 / 0.01 is 1998.9999999999998.
    multipleOfPrecision: 6,
    ...options,
  });
  addFormats(ajv);
  // ajv-formats' uuid also takes a `urn:uuid:` prefix, which Postgres refuses (a 500, not a 400).
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  return ajv;
}

/** Validator compilers by the shared schemas they know (Fastify asks again for every route). */
const requestValidators = new Map<string, FastifySchemaCompiler<object>>();

/**
 * The validator compiler of a server or plugin scope, knowing its shared schemas. Bodies are
 * validated strictly ("10" is not a price); query strings and params arrive as text and are coerced
 * to the declared types.
 */
function buildRequestValidator(externalSchemas: Record<string, unknown>): FastifySchemaCompiler<object> {
  const key = JSON.stringify(externalSchemas);
  let compiler = requestValidators.get(key);
  if (!compiler) {
    const bodyAjv = makeAjv({ coerceTypes: false });
    const paramsAjv = makeAjv({ coerceTypes: 'array' });
    for (const schema of Object.values(externalSchemas)) {
      bodyAjv.addSchema(schema as object);
      paramsAjv.addSchema(schema as object);
    }
    compiler = ({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramsAjv).compile(schema);
    requestValidators.set(key, compiler);
  }
  return compiler;
}

/**
 * One log line per request, when it completes (Fastify's default is two): at info, but at debug
 * for health checks and metrics scrapes, which would otherwise be most of the lines.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(
    _error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const level = isQuietRoute(request.routeOptions.url) ? 'debug' : 'info';
    // Not even the fields, on the hot path. ('silent' has no value: nothing is logged.)
    if ((levels.values[request.log.level] ?? Infinity) > levels.values[level]!) return;
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        ...requestTraceFields(request),
      },
      'request',
    );
  }
}

export async function buildHttpServer(options: HttpServerOptions): Promise<HttpApp> {
  const hardening: HttpHardening = { ...DEVELOPMENT_HARDENING, ...options.hardening };
  const app = Fastify({
    ...timeoutOptions(hardening),
    loggerInstance: options.logger,
    logController: new OneLinePerRequest(),
    bodyLimit: 64 * 1024,
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    clientErrorHandler: apiClientErrorHandler,
    frameworkErrors: apiFrameworkErrors,
    // A factory, not `setValidatorCompiler`: a plugin scope that adds schemas of its own (a
    // service's named schemas) builds its compiler again from the factory it was given, which
    // would be Fastify's default had the compiler only been set on the root.
    // (Its type has the compiler take a bare schema; Fastify calls it with the route's definition.)
    schemaController: { compilersFactory: { buildValidator: buildRequestValidator as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Spans, request metrics and GET /metrics; first, so that it sees every route.
  installHttpObservability(app, { service: options.service ?? 'http', metrics: hardening.metrics });
  // Before anything reads the request: its answer, refusal included, carries the headers.
  installSecurityHeaders(app, hardening);
  refuseCrossSiteWrites(app);
  noStoreForSessions(app, SESSION_COOKIE);

  // Postgres's text cannot hold U+0000, which JSON (`\u0000`) and URLs (`%00`) can carry: refused
  // here, with the field it came in, rather than by the database as a 500. Only a request whose
  // URL or body text holds one is walked: everything else costs one `includes` (the JSON parser
  // below notes the bodies). A callback, not an async hook: no promise per request.
  const bodyMayHoldNul = new WeakSet<object>();
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error');
  // JSON only: any other body (text/plain, a form: what a page of another site can send without
  // asking) is answered 415 before a route sees it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).includes('\\u0000')) bodyMayHoldNul.add(request);
    void defaultJsonParser(request, body as string, done);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const field =
      (request.url.includes('%00') ? (nulField(request.params) ?? nulField(request.query)) : undefined) ??
      (bodyMayHoldNul.has(request) ? nulField(request.body, PASSWORD) : undefined);
    if (field === undefined) return done();
    const message = `${field || 'request'} must not contain the character U+0000`;
    done(new HttpError(400, message, [field ? { message, field } : { message }]));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.status(400).send({ errors: validationItems(error.validation as ErrorObject[]) });
    }
    if (error instanceof HttpError) {
      if (error instanceof TooManyRequestsError) void reply.header('retry-after', error.retryAfter);
      return reply.status(error.statusCode).send({ errors: error.items });
    }
    // Fastify's own client errors (malformed JSON, wrong content type, body too large) carry a 4xx.
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ errors: [{ message: error.message }] });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ errors: [{ message: 'Something went wrong' }] });
  });
  // Graceful close. Node's server.close() closes the keep-alive connections idle at that moment
  // only; one that was busy then, and that a proxy keeps reusing, would stay open until its
  // keep-alive timeout. So while closing, every response says `Connection: close` and idle
  // connections are closed again until the server is.
  let closing: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closing = setInterval(() => app.server.closeIdleConnections(), 50);
  });
  app.addHook('onClose', async () => clearInterval(closing));
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ errors: [{ message: 'Not found' }] }));

  await app.register(sessionPlugin, {
    jwtKey: options.jwtKey,
    secureCookies: options.secureCookies,
    sessionLifetimes: options.sessionLifetimes,
    revocations: options.revocations,
    now: options.now,
  });
  // The OpenAPI document: the error body every route answers, the statuses the server answers
  // whatever the route (added to each route's schema as it is registered), named components.
  app.addSchema(ErrorBody);
  documentFrameworkErrors(app);
  refuseSchemaNameClashes(app);
  await app.register(swagger, swaggerOptions(options.title));
  // Its pages get the documentation's own policy from installSecurityHeaders. Without the top bar
  // (the box to explore other documents), whose logo is an SVG with an inline style the policy
  // would block.
  if (hardening.apiDocs)
    await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { layout: 'BaseLayout' } });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks = Object.fromEntries(
      await Promise.all(
        Object.entries(options.readiness).map(async ([name, check]) => [
          name,
          await check().catch(() => false),
        ]),
      ),
    ) as Record<string, boolean>;
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  // Last: the ceiling covers the routes registered from here on (the services'), not the above.
  await installRateLimits(app, options.rateLimits ?? {});
  return app;
}

/** A password is only ever hashed, never stored as text: it may hold any character. */
const PASSWORD = 'password';

/**
 * The path (`a.b.0`) of a string or key in `value` that holds U+0000 (`skip`: a top-level
 * field not to look in); undefined if none does. Walked with a stack of its own, not recursion,
 * so that a body nested thousands deep is refused by validation rather than overflowing here.
 */
function nulField(value: unknown, skip?: string): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === 'string') {
      if (item.includes('\0')) return path;
    } else if (typeof item === 'object' && item !== null) {
      for (const key in item) {
        if (path === '' && key === skip) continue;
        const itemPath = path ? `${path}.${key}` : key;
        if (key.includes('\0')) return itemPath;
        pending.push([(item as Record<string, unknown>)[key], itemPath]);
      }
    }
  }
  return undefined;
}

/**
 * Ajv's errors as the API's items. A value that fails a union (`anyOf`: a price as a number or as
 * decimal text) gets ajv's error for each alternative and one for the union; only those of the
 * alternatives of its own type say what is wrong ("must be > 0" for a number), so the others go.
 */
function validationItems(errors: ErrorObject[]): ErrorItem[] {
  const unions = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const kept = errors.filter((e) => {
    if (!unions.has(e.instancePath)) return true;
    if (e.keyword === 'anyOf') return false;
    const ofItsType = errors.some(
      (other) =>
        other.instancePath === e.instancePath && other.keyword !== 'type' && other.keyword !== 'anyOf',
    );
    return e.keyword !== 'type' || !ofItsType;
  });
  const items = new Map<string, ErrorItem>();
  for (const error of kept) {
    const item = validationItem(error);
    items.set(`${item.field}:${item.message}`, item);
  }
  return [...items.values()];
}

/** Turns one ajv error into `{ message, field }`, naming the field the way a client sent it. */
function validationItem(error: ErrorObject): ErrorItem {
  if (error.keyword === 'required') {
    const field = joinPath(error.instancePath, String(error.params.missingProperty));
    return { message: `${field} is required`, field };
  }
  if (error.keyword === 'additionalProperties') {
    const field = joinPath(error.instancePath, String(error.params.additionalProperty));
    return { message: `${field} is not allowed`, field };
  }
  const field = joinPath(error.instancePath, '');
  return field
    ? { message: `${field} ${error.message ?? 'is invalid'}`, field }
    : { message: `request ${error.message ?? 'is invalid'}` };
}

function joinPath(instancePath: string, property: string): string {
  return [...instancePath.split('/').filter(Boolean), property].filter(Boolean).join('.');
}
