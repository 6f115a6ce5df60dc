/** Helpers for tests of any service: a fresh database per test file, a quiet logger, polling, raw HTTP. */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { inject } from 'vitest';
import { pino, type Logger } from 'pino';
import { databaseUrl, ensureDatabase, openDatabase, type ServiceDatabase } from '../db/database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by test/global-setup.ts. */
    pgServerUrl: string;
  }
}

export const silentLogger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** URL of the test server's `postgres` database (embedded, or TEST_DATABASE_URL). */
export function testServerUrl(): string {
  return inject('pgServerUrl');
}

/** Creates an empty database with a unique name; `drop()` removes it. */
export async function createTestDatabase(prefix = 't'): Promise<ServiceDatabase & { drop(): Promise<void> }> {
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const url = databaseUrl(testServerUrl(), name);
  await ensureDatabase(url);
  const database = openDatabase(url, { max: 10, logger: silentLogger });
  return {
    ...database,
    async drop() {
      await database.close();
      const admin = new pg.Client({ connectionString: databaseUrl(url, 'postgres') });
      await admin.connect();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends `request` byte for byte on a new connection to 127.0.0.1:`port` (what no HTTP client
 * would send); the answer's status, head and body once the server closes the connection.
 */
export function sendRawHttp(
  port: number,
  request: string,
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), head, body });
    });
  });
}
/**
 * Sends a request whose body trickles in, one byte every `intervalMs` (a slowloris), on a new
 * connection to 127.0.0.1:`port`; the answer, and how long after the headers it came, once the
 * server closes the connection (or after `giveUpMs`, when `status` is 0).
 */
export function sendSlowBody(
  port: number,
  options: { path?: string; intervalMs: number; giveUpMs: number },
): Promise<{ status: number; head: string; body: string; ms: number }> {
  const length = 10_000;
  return new Promise((resolve, reject) => {
    let text = '';
    let started = 0;
    let drip: NodeJS.Timeout | undefined;
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `POST ${options.path ?? '/api/things'} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`,
      );
      started = Date.now();
      drip = setInterval(() => socket.writable && socket.write(' '), options.intervalMs);
    });
    const giveUp = setTimeout(() => socket.destroy(), options.giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A server that closes while bytes are on their way may reset the connection.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]) || 0, head, body, ms: Date.now() - started });
    });
  });
}
