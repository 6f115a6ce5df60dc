/**
 * `npm run bench:profile -- <dir>`: what the replicas spent their CPU on, from the `.cpuprofile`
 * files `node --cpu-prof` wrote into <dir> (for example a rush run with
 * `REPLICA_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>" npm run bench:rush`).
 *
 * Per service (recognised by its bundle, `services/<name>/dist/main.js`, in the profile's frames):
 * the CPU time sampled, where it went by origin (the service's own code, each npm package, Node's
 * internals, the garbage collector), and the functions with the most self time, which are the
 * widest bars at the top of a flame graph. BENCH_PROFILE_TOP (15) sets how many.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { intFromEnv, table } from './lib/measure.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time in ms per node id. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    times.set(id, (times.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1_000);
  });
  return times;
}

/** Where a frame's code comes from: an npm package, Node itself, the service, or V8's own work. */
function originOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node';
  if (/services\/[^/]+\/dist\//.test(url)) return 'service bundle';
  return path.basename(url);
}

function serviceOf(profile: CpuProfile): string | undefined {
  for (const node of profile.nodes) {
    const match = /services\/([^/]+)\/dist\/main\.js/.exec(node.callFrame.url);
    if (match) return match[1];
  }
  return undefined;
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const where = frame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '');
  return `${name} ${path.basename(where) === where ? where : where.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
}

interface Summary {
  totalMs: number;
  byOrigin: Map<string, number>;
  /** Time charged to the nearest frame of an npm package or the service that led to it. */
  byCaller: Map<string, number>;
  byFunction: Map<string, number>;
}

/** Origins that do work on someone else's behalf: their time is charged to the caller. */
const NOT_A_CALLER = new Set(['node', '(native)', '(garbage collector)', '(program)', '(root)']);

function summarise(profiles: CpuProfile[]): Summary {
  const summary: Summary = { totalMs: 0, byOrigin: new Map(), byCaller: new Map(), byFunction: new Map() };
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const callerOf = (id: number): string => {
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const origin = originOf(nodes.get(at)!.callFrame);
        if (!NOT_A_CALLER.has(origin)) return origin;
      }
      return originOf(nodes.get(id)!.callFrame);
    };
    for (const [id, ms] of selfTimes(profile)) {
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === '(idle)') continue;
      summary.totalMs += ms;
      const origin = originOf(frame);
      add(summary.byOrigin, origin, ms);
      add(summary.byCaller, callerOf(id), ms);
      const key = label(frame);
      add(summary.byFunction, key, ms);
    }
  }
  return summary;
}

const top = (entries: Map<string, number>, count: number) =>
  [...entries].sort((a, b) => b[1] - a[1]).slice(0, count);

function main(): void {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npm run bench:profile -- <directory of .cpuprofile files>');
    process.exit(2);
  }
  const count = intFromEnv('BENCH_PROFILE_TOP', 15);
  const byService = new Map<string, CpuProfile[]>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const service = serviceOf(profile) ?? `other (${file})`;
    byService.set(service, [...(byService.get(service) ?? []), profile]);
  }
  if (byService.size === 0) {
    console.error(`no .cpuprofile files in ${dir}`);
    process.exit(1);
  }
  for (const [service, profiles] of [...byService].sort()) {
    const summary = summarise(profiles);
    const share = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1)}%`;
    console.log(
      `\n${service}: ${(summary.totalMs / 1_000).toFixed(2)} s of CPU sampled (${profiles.length} process)`,
    );
    console.log(
      table(
        ['origin', 'ms', 'share'],
        top(summary.byOrigin, 10).map(([origin, ms]) => [origin, ms.toFixed(0), share(ms)]),
      ),
    );
    console.log(
      table(
        ['charged to (Node and native work to its caller)', 'ms', 'share'],
        top(summary.byCaller, 10).map(([origin, ms]) => [origin, ms.toFixed(0), share(ms)]),
      ),
    );
    console.log(
      table(
        ['self time', 'ms', 'share'],
        top(summary.byFunction, count).map(([name, ms]) => [name, ms.toFixed(0), share(ms)]),
      ),
    );
  }
}

main();
