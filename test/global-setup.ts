/**
 * One PostgreSQL server for the whole test run: the one at TEST_DATABASE_URL (CI, or any real
 * server), or else an embedded one started here and thrown away after. Test files create their
 * own databases on it, so they never share state.
 */
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from '../packages/common/src/testing/index.ts';
import { startEmbeddedPostgres } from '../packages/common/src/db/embedded.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('pgServerUrl', given);
    return async () => {};
  }
  const server = await startEmbeddedPostgres({
    dataDir: path.join(os.tmpdir(), `ticketing-test-pg-${process.pid}`),
    persistent: false, // any free port
  });
  project.provide('pgServerUrl', server.url);
  return () => server.stop();
}
