/**
 * Driving the services over HTTP: a keep-alive client with per-request timing, minted session
 * cookies, tickets created through the API, and waiting until the orders replica holds them.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type pg from 'pg';
import { createSessionIssuer, type SessionIssuer } from '@ticketing/common';
import { runWorkers, sleep } from './measure.ts';

const issuers: Record<string, SessionIssuer> = {};

/** A session cookie as the auth service would issue it, without the scrypt of a sign-up. */
export async function mintCookie(jwtKey: string, userId: string = randomUUID()): Promise<string> {
  const sessions = (issuers[jwtKey] ??= createSessionIssuer({ jwtKey, secureCookies: false }));
  return `session=${await sessions.sign({ id: userId, email: `bench-${userId}@example.test` })}`;
}

export interface Timed {
  status: number;
  body: string;
  /** performance.now() when the request was sent and when its response was complete. */
  sentAt: number;
  doneAt: number;
}

/** A keep-alive `node:http` client (no extra dependency, little client-side overhead). */
export class Client {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string, connections: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  }

  request(method: string, path: string, cookie: string, body?: unknown): Promise<Timed> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const sentAt = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: {
            cookie,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              sentAt,
              doneAt: performance.now(),
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Creates `count` tickets through the API, spread over `sellers` minted sellers. */
export async function createTickets(
  client: Client,
  jwtKey: string,
  count: number,
  sellers: number,
  concurrency: number,
): Promise<{ id: string; cookie: string; version: number }[]> {
  const cookies = await Promise.all(Array.from({ length: sellers }, () => mintCookie(jwtKey)));
  const created = new Array<{ id: string; cookie: string; version: number }>(count);
  await runWorkers(concurrency, count, async (i) => {
    const cookie = cookies[i % sellers]!;
    const res = await client.request('POST', '/api/tickets', cookie, {
      title: `Bench ticket ${i}`,
      price: 10 + (i % 90),
    });
    if (res.status !== 201) throw new Error(`create ticket: ${res.status} ${res.body}`);
    const body = JSON.parse(res.body) as { id: string; version: number };
    created[i] = { id: body.id, cookie, version: body.version };
  });
  return created;
}

/** Waits until the orders service's replica holds `ids` (all of them), polling its database. */
export async function waitForReplica(pool: pg.Pool, ids: string[], timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from tickets where id = any($1::uuid[])',
      [ids],
    );
    if (rows[0]!.n === ids.length) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`orders replica has ${rows[0]!.n}/${ids.length} tickets`);
    await sleep(20);
  }
}
