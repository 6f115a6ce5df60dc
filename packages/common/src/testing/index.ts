/** Helpers for tests of any service: a fresh database per test file, a quiet logger, polling. */
import { randomUUID } from 'node:crypto';
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
export * from './service-harness.ts';
