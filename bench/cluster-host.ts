/**
 * The cluster under test in a process of its own: `startCluster` runs the balancing gateway in
 * the process that calls it, and a load generator in that same process would share the gateway's
 * event loop (and be measured as gateway time). Started by `startBenchCluster` with an IPC
 * channel: it receives the options, answers with the addresses once every replica is ready, and
 * stops the cluster when told to.
 */
import { createLogger } from '@ticketing/common';
import { SERVICES, startCluster, type ClusterOptions } from '../apps/cluster/src/cluster.ts';

export type HostOptions = Omit<ClusterOptions, 'logger'>;

export interface HostReady {
  type: 'ready';
  url: string;
  databaseUrls: Record<string, string>;
  replicas: { service: string; name: string; url: string; pid: number | undefined }[];
}

const logger = createLogger('bench-cluster', { level: process.env.LOG_LEVEL ?? 'warn', pretty: false });

process.once('message', (options: HostOptions) => {
  void (async () => {
    const cluster = await startCluster({ ...options, logger });
    const stop = () => void cluster.stop().then(() => process.exit(0));
    process.on('message', (message: { type: string }) => {
      if (message.type === 'stop') stop();
    });
    process.once('disconnect', stop); // the benchmark died: do not leave replicas behind
    try {
      await cluster.waitUntilReady();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    // waitUntilReady asks /readyz itself; the gateway routes only to replicas its own poller has
    // marked healthy, which can come later: wait for that too, or the first requests get 503.
    const all = SERVICES.flatMap((s) => cluster.replicas[s]);
    while (!all.every((r) => r.healthy)) await new Promise((resolve) => setTimeout(resolve, 50));
    const ready: HostReady = {
      type: 'ready',
      url: cluster.url,
      databaseUrls: cluster.databaseUrls,
      replicas: SERVICES.flatMap((s) =>
        cluster.replicas[s].map((r) => ({ service: s, name: r.name, url: r.url, pid: r.process?.pid })),
      ),
    };
    process.send?.(ready);
  })();
});
