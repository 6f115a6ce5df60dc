/**
 * What the cluster's entry serves besides the services' APIs, from the supervisor's process, on a
 * loopback port of its own that both entries forward to:
 *
 * - `/api/docs`: the API documentation (Swagger UI), over one OpenAPI document made of every
 *   service's own. Each replica documents its service's routes at `/api/docs/json`; the site asks
 *   a healthy replica of each service the first time the document is wanted, and keeps the result
 *   (every replica of a run runs the same code).
 * - every other path outside `/api`: the web client (apps/web/dist), as `npm start` serves it.
 *
 * Everything else under `/api` is the entry's own 404, as before.
 */
import net from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type onRequestHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  apiClientErrorHandler,
  apiFrameworkErrors,
  DEVELOPMENT_HARDENING,
  installSecurityHeaders,
  timeoutOptions,
  type HttpApp,
  type HttpHardening,
  type Logger,
} from '@ticketing/common';
import { serveWebClient } from '@ticketing/marketplace/web';
import type { ServiceName } from './cluster.ts';
import type { Upstream } from './entry.ts';
import { DOCS_PREFIX, ROUTES } from './routes.ts';

export interface SiteOptions {
  replicas: Record<ServiceName, Upstream[]>;
  /** The built web client (apps/web/dist); absent: paths outside `/api` are a 404. */
  webDist?: string;
  logger: Logger;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /**
   * Timeouts, headers (a CSP that lets the web client load Stripe.js when `stripe`), and whether
   * the API documentation is served (`apiDocs`); development's by default.
   */
  hardening?: Partial<HttpHardening>;
}

export interface Site {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, unknown>;
  components?: Record<string, Record<string, unknown> | undefined>;
  tags?: { name: string }[];
  [key: string]: unknown;
}

/**
 * One document made of several services' own, in the given order: their paths, tags and
 * components side by side. A component schema whose name another service already gave to a
 * different schema (each numbers its own `def-0`, `def-1`...) is renamed `<name>-<service>`, and
 * that service's references to it follow.
 */
export function mergeOpenApi(
  info: OpenApiDocument['info'],
  documents: { service: string; document: OpenApiDocument }[],
): OpenApiDocument {
  const merged: OpenApiDocument = {
    openapi: documents[0]?.document.openapi ?? '3.0.3',
    info,
    components: {},
    paths: {},
  };
  const tags = new Map<string, { name: string }>();
  for (const { service, document } of documents) {
    const renames = new Map<string, string>();
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
      const taken = merged.components!.schemas?.[name];
      if (taken !== undefined && JSON.stringify(taken) !== JSON.stringify(schema))
        renames.set(`#/components/schemas/${name}`, `#/components/schemas/${name}-${service}`);
    }
    const own = renames.size === 0 ? document : renameRefs(document, renames);
    for (const [kind, entries] of Object.entries(own.components ?? {})) {
      for (const [name, value] of Object.entries(entries ?? {})) {
        const target = (merged.components![kind] ??= {});
        const renamed = kind === 'schemas' ? renames.get(`#/components/schemas/${name}`) : undefined;
        target[renamed ? renamed.slice('#/components/schemas/'.length) : name] = value;
      }
    }
    Object.assign(merged.paths, own.paths);
    for (const tag of own.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
  }
  if (tags.size > 0) merged.tags = [...tags.values()];
  return merged;
}

/** A copy of `value` whose `$ref`s named in `renames` point at their new names. */
function renameRefs<T>(value: T, renames: Map<string, string>): T {
  return JSON.parse(JSON.stringify(value), (key, item: unknown) =>
    key === '$ref' && typeof item === 'string' ? (renames.get(item) ?? item) : item,
  ) as T;
}

/** Each public service's document, from one of its healthy replicas (the first to answer). */
async function fetchDocuments(
  replicas: Record<ServiceName, Upstream[]>,
): Promise<{ service: string; document: OpenApiDocument }[]> {
  return Promise.all(
    ROUTES.map(async ([, service]) => {
      for (const replica of replicas[service].filter((r) => r.healthy)) {
        try {
          const response = await fetch(`${replica.url}${DOCS_PREFIX}/json`, {
            signal: AbortSignal.timeout(2_000),
          });
          if (response.ok) return { service, document: (await response.json()) as OpenApiDocument };
        } catch {
          // the next replica, if any
        }
      }
      throw new Error(`The ${service} service is unavailable`);
    }),
  );
}

export async function startSite(options: SiteOptions): Promise<Site> {
  const log: FastifyBaseLogger = options.logger.child({ component: 'site' });
  const hardening = { ...DEVELOPMENT_HARDENING, ...options.hardening };
  // Typed as the services' servers are, whose web-client routes it reuses.
  const app: HttpApp = Fastify({
    ...timeoutOptions(hardening),
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: apiClientErrorHandler,
    frameworkErrors: apiFrameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();
  installSecurityHeaders(app, hardening);
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ errors: [{ message: 'Not found' }] }));

  let document: OpenApiDocument | undefined;
  let loading: Promise<OpenApiDocument> | undefined;
  const load = () =>
    (loading ??= fetchDocuments(options.replicas)
      .then((documents) => (document = mergeOpenApi({ title: 'ticketing', version: '0.1.0' }, documents)))
      .finally(() => (loading = undefined)));
  // Before the document is served (its JSON and YAML routes), the services are asked for theirs.
  const ensureDocument: onRequestHookHandler = (request, reply, done) => {
    if (document || !/\/(json|yaml)$/.test(request.routeOptions.url ?? '')) return done();
    load().then(
      () => done(),
      (error: unknown) => void reply.status(503).send({ errors: [{ message: (error as Error).message }] }),
    );
  };
  if (hardening.apiDocs) {
    await app.register(swagger, {
      mode: 'static',
      specification: {
        document: { openapi: '3.0.3', info: { title: 'ticketing', version: '0.1.0' }, paths: {} },
      },
    });
    await app.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      // As the services' own: without the top bar, whose logo's inline style the policy blocks.
      uiConfig: { layout: 'BaseLayout' },
      uiHooks: { onRequest: ensureDocument },
      transformSpecification: () => document!,
      transformSpecificationClone: false,
    });
  }
  if (options.webDist) await serveWebClient(app, options.webDist);

  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
