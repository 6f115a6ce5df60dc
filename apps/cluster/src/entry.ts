/**
 * The cluster's one HTTP entry: it routes a request by its path to the service that owns it, and
 * balances over that service's healthy replicas. Two implementations of the same routes:
 *
 * - **haproxy** (the default where an HAProxy binary is installed; see `haproxy.ts`): a static
 *   configuration; HAProxy checks every replica's `/readyz` itself, so nothing is rewritten or
 *   reloaded while replicas come and go.
 * - **node**: Fastify and `@fastify/reply-from` in the supervisor's own process, for a machine
 *   without HAProxy (`CLUSTER_ENTRY=node` picks it anyway); the supervisor's `/readyz` poller
 *   decides which replicas are healthy.
 *
 * Both answer `/healthz` themselves, send the API documentation (`/api/docs`) and every path
 * outside `/api` (the web client) to the supervisor's site (`site.ts`) when there is one, answer
 * any other path no service owns with 404, and a service none of whose replicas is healthy, or
 * whose replica failed mid-request, with `{ errors: [...] }` and a 5xx.
 */
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { Type, type Static } from 'typebox';
import Fastify, { LogController } from 'fastify';
import replyFrom from '@fastify/reply-from';
import {
  apiClientErrorHandler,
  apiFrameworkErrors,
  DEVELOPMENT_HARDENING,
  loadConfig,
  securityHeadersHook,
  timeoutOptions,
  type HttpHardening,
  type Logger,
} from '@ticketing/common';
import type { Replica, ServiceName } from './cluster.ts';
import { findHaproxy, startHaproxyEntry } from './haproxy.ts';
import { isSitePath, serviceOf } from './routes.ts';

export type EntryKind = 'haproxy' | 'node';

/** Which entry to run (`CLUSTER_ENTRY`): `auto` takes HAProxy where installed, else the Node gateway. */
export const EntryChoice = Type.Union([Type.Literal('auto'), Type.Literal('haproxy'), Type.Literal('node')], {
  default: 'auto',
});
export type EntryChoice = Static<typeof EntryChoice>;

/** `CLUSTER_ENTRY` from the environment, validated (for callers without a config of their own). */
export const entryChoiceFromEnv = (env: Record<string, string | undefined> = process.env): EntryChoice =>
  loadConfig(Type.Object({ CLUSTER_ENTRY: EntryChoice }), env).CLUSTER_ENTRY;

export interface Entry {
  readonly kind: EntryKind;
  readonly port: number;
  /** The processes doing the entry's work (for CPU figures): HAProxy's, or this one. */
  pids(): number[];
  /**
   * Called after the supervisor's view of the replicas' health may have changed (a replica it is
   * about to stop, one it sees ready again); applies what the entry does not see by itself.
   */
  update(): void;
  /** Resolves once the routing matches the supervisor's view; rejects if it does not in time. */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface EntryOptions {
  /** `auto` (the default): HAProxy where installed, else the Node gateway. */
  kind?: EntryChoice;
  port: number;
  host?: string;
  replicas: Record<ServiceName, Upstream[]>;
  /** The supervisor's site (API documentation, web client), if any: where those paths go. */
  site?: { port: number };
  /**
   * The Node gateway's timeouts, and the security headers of the answers it gives itself (those
   * it forwards keep the ones their server set); development's by default.
   */
  hardening?: Partial<HttpHardening>;
  logger: Logger;
}

/** What the entry needs of a replica: where it listens and whether it is healthy. */
export type Upstream = Pick<Replica, 'name' | 'port' | 'url'> & { healthy: boolean };

export async function startEntry(options: EntryOptions): Promise<Entry> {
  const wanted = options.kind ?? 'auto';
  const haproxy = wanted === 'node' ? undefined : findHaproxy();
  if (wanted === 'haproxy' && !haproxy)
    throw new Error(
      'CLUSTER_ENTRY=haproxy, but no haproxy binary was found (HAPROXY_BINARY, /usr/sbin/haproxy)',
    );
  if (haproxy) return startHaproxyEntry(haproxy, options);
  if (wanted === 'auto')
    options.logger.warn('haproxy not found: the cluster entry is the (slower) Node gateway');
  return startNodeEntry(options);
}

/** Round robin over the healthy replicas of a service, in the supervisor's process. */
async function startNodeEntry({
  port,
  host,
  replicas,
  site,
  logger,
  ...options
}: EntryOptions): Promise<Entry> {
  const log = logger.child({ component: 'gateway' });
  const hardening = { ...DEVELOPMENT_HARDENING, ...options.hardening };
  const app = Fastify({
    ...timeoutOptions(hardening),
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: apiClientErrorHandler,
    frameworkErrors: apiFrameworkErrors,
  });
  await app.register(replyFrom, { undici: { connections: 128, pipelining: 1 } });
  // Set first, on the raw response: a forwarded answer's own headers replace them.
  app.addHook('onRequest', securityHeadersHook(hardening));
  // The Host the client asked for, as HAProxy passes it on: the services compare a browser's
  // Origin with it.
  const keepHost = (request: { headers: IncomingHttpHeaders }, headers: IncomingHttpHeaders) =>
    request.headers.host === undefined ? headers : { ...headers, host: request.headers.host };
  const next: Partial<Record<ServiceName, number>> = {};

  const pick = (service: ServiceName): Upstream | undefined => {
    const pool = replicas[service];
    for (let i = 0; i < pool.length; i++) {
      const index = ((next[service] ?? 0) + i) % pool.length;
      if (pool[index]!.healthy) {
        next[service] = index + 1;
        return pool[index];
      }
    }
    return undefined;
  };

  app.all('/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const service = serviceOf(path);
    if (!service) {
      if (path === '/healthz') return reply.send({ status: 'ok' });
      if (site && isSitePath(path))
        return reply.from(`http://127.0.0.1:${site.port}${request.url}`, {
          rewriteRequestHeaders: keepHost,
          onError: (failed, { error }) => {
            log.warn({ err: error }, 'the site failed');
            void failed.status(502).send({ errors: [{ message: 'The web service did not answer' }] });
          },
        });
      return reply.status(404).send({ errors: [{ message: 'Not found' }] });
    }
    const replica = pick(service);
    if (!replica)
      return reply.status(503).send({ errors: [{ message: `The ${service} service is unavailable` }] });
    return reply.from(`${replica.url}${request.url}`, {
      // As HAProxy's `option forwardfor`: the address this entry saw, after any the client
      // wrote. The replicas trust one hop (TRUST_PROXY=1), so the last one is the client's.
      rewriteRequestHeaders: (incoming, headers) => ({
        ...keepHost(incoming, headers),
        'x-forwarded-for': [incoming.headers['x-forwarded-for'], incoming.socket.remoteAddress]
          .filter(Boolean)
          .join(', '),
      }),
      onError: (failed, { error }) => {
        replica.healthy = false; // out of the rotation until /readyz says otherwise
        log.warn({ err: error, replica: replica.name }, 'upstream failed');
        void failed.status(502).send({ errors: [{ message: `The ${service} service did not answer` }] });
      },
    });
  });
  // Bodies are streamed through untouched (reply-from pipes a stream body); the service parses
  // and validates them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  await app.listen({ port, host: host ?? '127.0.0.1' });
  return {
    kind: 'node',
    port: (app.server.address() as net.AddressInfo).port,
    pids: () => [process.pid],
    update: () => {}, // reads the replicas' health on every request
    settled: async () => {},
    close: () => app.close(),
  };
}
