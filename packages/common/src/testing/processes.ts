/** What tests of starting and stopping processes look at: which processes are alive, and where. */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** Alive, and not a zombie waiting for its new parent to reap it. */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Pids of the live processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return livePids().filter((each) => {
    const text = readProc(each, 'stat');
    return text !== undefined && Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]) === pid;
  });
}

/**
 * Pids of the live processes working in `dir` (its real path): a PostgreSQL server and every one
 * of its backends work in their data directory.
 */
export function processesWorkingIn(dir: string): number[] {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return [];
  }
  return livePids().filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === real;
    } catch {
      return false;
    }
  });
}

function livePids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid && alive(pid));
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(path.join('/proc', String(pid), file), 'utf8');
  } catch {
    return undefined;
  }
}
