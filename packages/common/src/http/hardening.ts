/**
 * What every HTTP server of the system does to be safe to expose (the web client's server too):
 *
 * - **timeouts**: a request (headers and body) must arrive whole within `requestTimeoutMs`, or it
 *   is answered 408 and its connection closed (`clientErrorAnswer`); an idle keep-alive connection
 *   is closed after `keepAliveTimeoutMs`. Node checks its connections every second or so
 *   (`connectionsCheckingInterval`), not every 30 s as by default.
 * - **security headers** on every response, from `helmet` (built once per server, not per
 *   request): a Content-Security-Policy allowing only the app's own scripts and styles (and
 *   Stripe.js, only where the payments provider is Stripe), `frame-ancestors 'none'` and
 *   `X-Frame-Options: DENY`, `nosniff`, a `Referrer-Policy`, and HSTS in production.
 * - **`Cache-Control: no-store`** on API responses to a request carrying a session, and on every
 *   response of a route that reads one.
 * - **cross-site writes refused**: a POST, PUT, PATCH or DELETE whose `Origin` is another origin
 *   than the `Host` it was sent to, or that the browser marks `Sec-Fetch-Site: cross-site`, is
 *   answered 403 before anything reads it. Requests without those headers (curl, another server)
 *   pass: they carry no browser's cookies.
 *
 * Which settings a process reads, and their defaults, are `HardeningSettings` (documented in the
 * README's tables).
 */
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { Type } from 'typebox';

export interface HttpHardening {
  /** NODE_ENV=production: HSTS. */
  production: boolean;
  /** The web client may load Stripe.js: its origins join the CSP (the payments provider is Stripe). */
  stripe: boolean;
  /** Longest time a request (headers and body) may take to arrive: 408 after it. */
  requestTimeoutMs: number;
  /** Longest time an idle keep-alive connection is kept open. */
  keepAliveTimeoutMs: number;
  /** Serve the API documentation (`/api/docs`: Swagger UI and the OpenAPI document). */
  apiDocs: boolean;
  /** Serve `/metrics` on this server (false: on a port of its own, `METRICS_PORT`, or nowhere). */
  metrics: boolean;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Longer than a proxy in front keeps an idle connection to a replica, so that the proxy closes it first. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Development's defaults: everything served, nothing production-only. */
export const DEVELOPMENT_HARDENING: HttpHardening = {
  production: false,
  stripe: false,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  apiDocs: true,
  metrics: true,
};

/** The settings, from the environment, of every process that serves HTTP (see the README). */
export const HardeningSettings = {
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: DEFAULT_REQUEST_TIMEOUT_MS }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
    minimum: 1_000,
    maximum: 600_000,
    default: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  }),
  /** Unset: on, but off when NODE_ENV=production. */
  API_DOCS: Type.Optional(Type.Boolean()),
  /** Set: `/metrics` on this port only; unset: on the main port, but nowhere in production. */
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
};

export interface HardeningConfig {
  NODE_ENV: string;
  REQUEST_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  API_DOCS?: boolean;
  METRICS_PORT?: number;
}

/** A server's hardening from its configuration (`HardeningSettings` and NODE_ENV). */
export function hardeningFromConfig(
  config: HardeningConfig,
  options: { stripe?: boolean } = {},
): HttpHardening {
  const production = config.NODE_ENV === 'production';
  return {
    production,
    stripe: options.stripe ?? false,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS,
    apiDocs: config.API_DOCS ?? !production,
    metrics: config.METRICS_PORT === undefined && !production,
  };
}

/**
 * The Fastify options that bound how long a request may take to arrive and how long an idle
 * connection stays open. (Fastify's own default for the first is none at all.)
 */
export function timeoutOptions(hardening: Pick<HttpHardening, 'requestTimeoutMs' | 'keepAliveTimeoutMs'>): {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: ServerOptions;
} {
  const { requestTimeoutMs, keepAliveTimeoutMs } = hardening;
  return {
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      // Node's default is 60 s, which may not exceed the request's own bound.
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      // How often Node looks for requests past their time: by default every 30 s, which would let
      // a slow request live almost twice its bound.
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(requestTimeoutMs / 10))),
    },
  };
}

/** Stripe.js and what it opens (its card fields are frames of js.stripe.com; they call its API). */
const STRIPE = {
  script: ['https://js.stripe.com', 'https://*.js.stripe.com'],
  frame: ['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com'],
  connect: ['https://api.stripe.com'],
};

/**
 * The Content-Security-Policy directives of the app (the web client and the API's answers): only
 * the app's own scripts, styles, fonts and connections; images of its own and `data:` URLs (the
 * QR code of an entry code is an SVG drawn into one); no plugins, no frames but Stripe's, never
 * framed itself. Stripe's origins only when `stripe`.
 */
export function appCspDirectives(options: { stripe: boolean }): Record<string, string[]> {
  const stripe = (sources: string[]) => (options.stripe ? sources : []);
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'", ...stripe(STRIPE.connect)],
    'font-src': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'frame-src': options.stripe ? STRIPE.frame : ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'", ...stripe(STRIPE.script)],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
  };
}

/**
 * The API documentation's policy (Swagger UI): its own scripts, styles and images, the document
 * fetched from the same origin, nothing else; never framed.
 */
export function docsCspDirectives(): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
  };
}

/** A policy's directives as the header's text. */
export function cspText(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

/** helmet's options for the given policy: the headers every response carries. */
function helmetOptions(directives: Record<string, string[]>, production: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives },
    // Only for windows of the same origin: Stripe's frames are not opened as windows.
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    // Browsers ignore it over plain HTTP; in development it would pin localhost to HTTPS.
    strictTransportSecurity: production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
  };
}

type SetHeaders = (request: IncomingMessage, response: ServerResponse) => void;

/** Sets the headers of `helmetOptions` on a raw response; built once, cheap per request. */
export function securityHeaders(directives: Record<string, string[]>, production: boolean): SetHeaders {
  const middleware = helmet(helmetOptions(directives, production));
  return (request, response) =>
    middleware(request, response, (error?: unknown) => {
      if (error) throw error;
    });
}

/**
 * The security headers of an answer a server gives without its hooks (a request it could not
 * parse, written on the socket; nginx's own answers): a body of JSON, never to be run, framed or
 * kept.
 */
export const BARE_ANSWER_HEADERS: readonly (readonly [name: string, value: string])[] = [
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'strict-origin-when-cross-origin'],
  ['Cache-Control', 'no-store'],
];

/** `BARE_ANSWER_HEADERS` as header lines, each ending in CRLF. */
export const RAW_ANSWER_HEADERS = BARE_ANSWER_HEADERS.map(([name, value]) => `${name}: ${value}\r\n`).join(
  '',
);

const DOCS_PREFIX = '/api/docs';
const isDocsPath = (path: string) => path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`);
const pathOf = (url: string) => {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
};

/**
 * An `onRequest` hook that sets the security headers of every response: the docs' policy under
 * `/api/docs`, the app's everywhere else. On the raw response, so that a header a route sets itself
 * (a forwarded answer's own) replaces them.
 */
export function securityHeadersHook(
  hardening: HttpHardening,
): (
  request: { url: string; raw: IncomingMessage },
  reply: { raw: ServerResponse },
  done: () => void,
) => void {
  const appHeaders = securityHeaders(appCspDirectives(hardening), hardening.production);
  const docsHeaders = securityHeaders(docsCspDirectives(), hardening.production);
  return (request, reply, done) => {
    (isDocsPath(pathOf(request.url)) ? docsHeaders : appHeaders)(request.raw, reply.raw);
    done();
  };
}

/** Adds the security headers to every response of `app`; call before any route is registered. */
export function installSecurityHeaders(app: FastifyInstance, hardening: HttpHardening): void {
  app.addHook('onRequest', securityHeadersHook(hardening));
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The host of an `Origin` header's value; undefined for `null` and anything not a URL. */
function originHost(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
}

/** A `Host` header as `URL.host` writes it: lower case, without the scheme's default port. */
function normalHost(host: string): string {
  return host.toLowerCase().replace(/:(80|443)$/, '');
}

/**
 * Why a request that changes state is refused as cross-site; undefined when it may go on. A
 * browser says where a request comes from (`Origin`, `Sec-Fetch-Site`); a request without either
 * comes from no web page, and carries no browser's cookies.
 */
export function crossSiteRefusal(request: Pick<FastifyRequest, 'method' | 'headers'>): string | undefined {
  if (!WRITE_METHODS.has(request.method)) return undefined;
  const { origin, host } = request.headers;
  if (request.headers['sec-fetch-site'] === 'cross-site' || (origin !== undefined && host === undefined))
    return 'cross-site';
  if (origin === undefined) return undefined;
  const from = originHost(origin);
  return from !== undefined && from === normalHost(host!) ? undefined : 'another origin';
}

/** Answers 403, in the API's error shape, every cross-site request that would change state. */
export function refuseCrossSiteWrites(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (crossSiteRefusal(request) === undefined) return done();
    void reply
      .status(403)
      .header('cache-control', 'no-store')
      .send({ errors: [{ message: 'Requests from another site may not change anything here' }] });
  });
}

/** A route that reads the session: its OpenAPI `security` names the `session` scheme. */
function readsSession(request: FastifyRequest): boolean {
  const security = (request.routeOptions.schema as { security?: Record<string, unknown>[] } | undefined)
    ?.security;
  return security?.some((requirement) => 'session' in requirement) ?? false;
}

/**
 * `Cache-Control: no-store` on API responses that are a user's own: those to a request carrying
 * a session cookie, and every response of a route that reads one (its 401 too).
 */
export function noStoreForSessions(app: FastifyInstance, sessionCookie: string): void {
  const carriesSession = new RegExp(`(?:^|;)\\s*${sessionCookie}=`);
  app.addHook('onSend', (request, reply, payload, done) => {
    const path = pathOf(request.url);
    const { cookie } = request.headers;
    if (
      (path === '/api' || path.startsWith('/api/')) &&
      ((cookie !== undefined && carriesSession.test(cookie)) || readsSession(request))
    ) {
      reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });
}
