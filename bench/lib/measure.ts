/**
 * What every benchmark measures and prints with: settings from the environment, waiting, worker
 * pools, percentiles and medians, number formats, a plain-text table, the machine and its load,
 * and the CPU and memory of processes (read from /proc on Linux).
 */
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import os from 'node:os';

/** A positive whole number from the environment, or `fallback` when the variable is unset. */
export function intFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (!value) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer`);
  return parsed;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task(0..count-1)` on `concurrency` workers, each taking the next index when it is free. */
export async function runWorkers(
  concurrency: number,
  count: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** The median of values in any order (of an even count, the mean of the middle two). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A number with `digits` decimals and thousands separators; '–' for NaN and infinities. */
export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
}

/** A number with `digits` decimals and no separators; '-' for NaN and infinities. */
export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machine(): string {
  const cpus = os.cpus();
  return [
    `${os.availableParallelism()} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'})`,
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `Node ${process.version}`,
    `${os.type()} ${os.release()}`,
  ].join(', ');
}

/** The load average over 1, 5 and 15 minutes. */
export function loadAverage(digits = 1, separator = ' / '): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(digits))
    .join(separator);
}

/** The line a benchmark starts with: the machine and its load average. */
export function machineAndLoad(): string {
  return `machine: ${machine()}; load average ${loadAverage()}`;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The fields of /proc/PID/stat after the command's name: [0] is field 3 (state). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) in the fields of /proc/PID/stat. */
function cpuSecondsIn(fields: string[]): number {
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}

/** CPU seconds (user + system) a process has used so far; NaN when it cannot be read. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    return cpuSecondsIn(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8')));
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of a process, in MiB; NaN when it cannot be read. */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds used so far by this process, by the Postgres backends serving the bench's databases
 * (`bench_*`: not the server's background processes, nor anyone else's sessions) and by the NATS
 * server listening on `natsPort`, and by the whole machine (busy time of all cores).
 */
export interface CpuSample {
  self: number;
  postgres: number;
  nats: number;
  machineBusy: number;
}

/** Reads /proc (Linux); elsewhere only this process's own CPU time is known. */
export async function sampleCpu(natsPort?: string): Promise<CpuSample> {
  const usage = process.cpuUsage();
  const sample: CpuSample = {
    self: (usage.user + usage.system) / 1e6,
    postgres: Number.NaN,
    nats: Number.NaN,
    machineBusy: Number.NaN,
  };
  if (process.platform !== 'linux') return sample;
  sample.postgres = 0;
  if (natsPort) sample.nats = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const name = stat.slice(stat.indexOf('(') + 1, close);
    if (name !== 'postgres' && name !== 'nats-server') continue;
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    const seconds = cpuSecondsIn(statFields(stat));
    // A backend's title is "postgres: [cluster: ]user database client state".
    if (name === 'postgres' && / bench_\w+ /.test(command)) sample.postgres += seconds;
    if (name === 'nats-server' && natsPort && command.includes(`-p ${natsPort}`)) sample.nats += seconds;
  }
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  sample.machineBusy = (cpu.reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND;
  return sample;
}

export function cpuUsed(before: CpuSample, after: CpuSample): CpuSample {
  return {
    self: after.self - before.self,
    postgres: after.postgres - before.postgres,
    nats: after.nats - before.nats,
    machineBusy: after.machineBusy - before.machineBusy,
  };
}
