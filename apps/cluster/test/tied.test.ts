/**
 * A supervisor killed with SIGKILL runs no exit handler: its replicas and HAProxy must die with it
 * all the same (`tiedToSupervisor`). Each case runs a stand-in supervisor in a process of its own,
 * kills it, and waits for what it started to be gone.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { findHaproxy } from '../src/haproxy.ts';

const src = (file: string) => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

/** Alive, and not a zombie waiting for its new parent to reap it. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Runs `script` (ESM, with tsx) as a supervisor; resolves with the pids it prints, and its own. */
async function supervisor(script: string): Promise<{ pid: number; children: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`supervisor exited (${code}) before starting: ${text}`)));
  });
  return { pid: child.pid!, children: JSON.parse(line) as number[] };
}

/** Kills the supervisor with SIGKILL; resolves once its children are gone (kills any left, if not). */
async function killAndWaitForChildren(supervisorPid: number, children: number[]): Promise<void> {
  process.kill(supervisorPid, 'SIGKILL');
  try {
    await waitFor(async () => !children.some(alive), 5_000, 20);
  } finally {
    for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL');
  }
}

describe.runIf(process.platform === 'linux')('children of a supervisor killed with SIGKILL', () => {
  it('a replica gets SIGTERM and exits', async () => {
    const { pid, children } = await supervisor(`
      import { spawn } from 'node:child_process';
      import { tiedToSupervisor } from ${JSON.stringify(src('tied.ts'))};
      const replica = spawn(...tiedToSupervisor(process.execPath, ['-e', 'setInterval(() => {}, 1000)']), { stdio: 'ignore' });
      setTimeout(() => console.log(JSON.stringify([replica.pid])), 200);
      setInterval(() => {}, 1000);`);
    expect(children.every(alive)).toBe(true);
    await killAndWaitForChildren(pid, children);
  });

  it.runIf(findHaproxy())('haproxy exits', async () => {
    const { pid, children } = await supervisor(`
      import { startEntry } from ${JSON.stringify(src('entry.ts'))};
      import { SERVICES } from ${JSON.stringify(src('cluster.ts'))};
      import { silentLogger } from '@ticketing/common/testing';
      const replicas = Object.fromEntries(SERVICES.map((service) => [service, []]));
      const entry = await startEntry({ kind: 'haproxy', port: 0, replicas, logger: silentLogger });
      await entry.settled();
      console.log(JSON.stringify(entry.pids()));
      setInterval(() => {}, 1000);`);
    expect(children.length).toBe(1);
    expect(children.every(alive)).toBe(true);
    // Its directory (configuration, runtime API socket) outlives a supervisor killed with SIGKILL
    // (no exit handler removes it): this test removes it.
    const config = /-f\0([^\0]+)/.exec(readFileSync(`/proc/${children[0]}/cmdline`, 'utf8'))?.[1];
    try {
      await killAndWaitForChildren(pid, children);
    } finally {
      const dir = config && path.dirname(config);
      if (dir?.startsWith(path.join(os.tmpdir(), 'ticketing-haproxy-')))
        await rm(dir, { recursive: true, force: true });
    }
  });
});
