/**
 * A service under test: its routes on a Fastify instance (driven with `inject`), its own fresh
 * database with migrations applied, signed-in users, the events it queued in its outbox, and a
 * way to deliver an event to one of its listeners exactly as the runtime does. Its server refuses
 * the sessions its database holds as revoked, as a running service does.
 */
import { randomUUID } from 'node:crypto';
import { buildHttpServer, type HttpApp, type HttpServerOptions } from '../http/server.ts';
import { createSessionIssuer, type CurrentUser, type SessionLifetimes } from '../http/session.ts';
import { SessionRevocations } from '../sessions/revocations.ts';
import { watchRevocations } from '../sessions/revocation-store.ts';
import { migrateDatabase } from '../db/database.ts';
import { makeEvent, type EventData, type EventEnvelope, type EventType } from '../events/contract.ts';
import { processEvent, type Listener } from '../messaging/listener.ts';
import type { Outcome } from '../messaging/consumer.ts';
import { registerService, type ServiceModule } from '../service.ts';
import { createTestDatabase, silentLogger } from './helpers.ts';

const JWT_KEY = 'test-jwt-key-that-is-long-enough-0123456789';

export interface ServiceHarness {
  app: HttpApp;
  /** The sessions `app` refuses (what its database holds, kept current). */
  revocations: SessionRevocations;
  database: Awaited<ReturnType<typeof createTestDatabase>>;
  /** A session cookie for a (new, by default) user, in a new session. */
  signIn(user?: Partial<CurrentUser>): Promise<{ user: CurrentUser; cookie: string; sessionId: string }>;
  /** Events queued in the outbox, oldest first, optionally of one type. */
  outbox<T extends EventType>(type?: T): Promise<EventEnvelope<T>[]>;
  /** Delivers an event (built from `data`, or a whole envelope) to a listener; returns ack/retry/dead-letter. */
  deliver<T extends EventType>(
    listener: Listener<T>,
    event: EventData<T> | EventEnvelope<T>,
  ): Promise<Outcome>;
  /**
   * Stops the server and starts it again on the same database, as a restarted process would:
   * `app` and `revocations` are new (nothing is kept in memory across it).
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `server`: options of the HTTP server (where rate limits count, the ceiling, trusted proxies);
 * by default limits count in memory and there is no ceiling. `database` shares the database given
 * (two servers on one database, as two replicas) instead of creating one. `sessionLifetimes`: the
 * idle and absolute lifetimes of sessions, instead of the defaults.
 */
export interface HarnessOptions {
  server?: (database: ServiceHarness['database']) => Pick<HttpServerOptions, 'rateLimits' | 'trustProxy'>;
  database?: ServiceHarness['database'];
  sessionLifetimes?: SessionLifetimes;
}

export async function createServiceHarness(
  module: ServiceModule,
  options: HarnessOptions = {},
): Promise<ServiceHarness> {
  const database = options.database ?? (await createTestDatabase(module.name));
  await migrateDatabase(database, module.migrations);
  const start = async () => {
    const revocations = new SessionRevocations();
    const watch = await watchRevocations(database, revocations, silentLogger);
    const app = await buildHttpServer({
      ...options.server?.(database),
      logger: silentLogger,
      jwtKey: JWT_KEY,
      secureCookies: false,
      sessionLifetimes: options.sessionLifetimes,
      revocations,
      title: module.name,
      service: module.name,
      readiness: { database: () => database.ping() },
    });
    app.addHook('onClose', () => watch.close());
    await registerService(app, module, { database, logger: silentLogger });
    await app.ready();
    return { app, revocations };
  };
  const sessions = createSessionIssuer({
    jwtKey: JWT_KEY,
    secureCookies: false,
    sessionLifetimes: options.sessionLifetimes,
  });

  const harness: ServiceHarness = {
    ...(await start()),
    database,
    async signIn(partial = {}) {
      const user = {
        id: partial.id ?? randomUUID(),
        email: partial.email ?? `user-${randomUUID()}@example.test`,
      };
      const sessionId = randomUUID();
      const token = await sessions.sign(user, { id: sessionId, startedAt: Date.now() });
      return { user, cookie: `session=${token}`, sessionId };
    },
    async outbox<T extends EventType>(type?: T) {
      const { rows } = await database.pool.query<{ envelope: EventEnvelope<T> }>(
        'select envelope from outbox where ($1::text is null or type = $1) order by seq',
        [type ?? null],
      );
      return rows.map((r) => r.envelope);
    },
    async deliver(listener, event) {
      const envelope =
        'occurredAt' in event && 'data' in event ? event : makeEvent(listener.event, event as never);
      return processEvent(database, module.name, listener, envelope, silentLogger);
    },
    async restart() {
      await harness.app.close();
      Object.assign(harness, await start());
    },
    async close() {
      await harness.app.close();
      if (!options.database) await database.drop();
    },
  };
  return harness;
}
