/**
 * One service's HTTP server in a process of its own, on a database that exists already (migrated
 * and filled by the benchmark), so that the load generator does not share its event loop. Started
 * with an IPC channel by `startServiceHost`: it answers with its address once it listens, and
 * stops when told to, or when the benchmark's process goes away. The benchmarks' raised rate limits, no bus.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLogger, openDatabase, registerService } from '@ticketing/common';
import { ticketsService, type TicketsSettings } from '@ticketing/tickets';
import { benchHttpServer } from './systems.ts';

/** What the host serves: the tickets service, with these settings, on this database. */
export interface ServiceHostOptions {
  databaseUrl: string;
  tickets: Partial<TicketsSettings>;
  poolSize?: number;
}

interface Ready {
  type: 'ready';
  url: string;
}

export interface ServiceHost {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts the host process and waits until it listens. */
export async function startServiceHost(options: ServiceHostOptions): Promise<ServiceHost> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, TICKET_CREDENTIAL_KEY: randomUUID() + randomUUID() },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (message: Ready) => resolve(message));
    child.once('exit', (code) => reject(new Error(`service host exited (${code}) before it listened`)));
    child.send(options);
  });
  return {
    url: ready.url,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: 'stop' });
        await exited;
      }
    },
  };
}

// In the host process: serve, and answer with the address.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  process.once('message', (options: ServiceHostOptions) => {
    void (async () => {
      const logger = createLogger('bench-host', { level: process.env.LOG_LEVEL ?? 'warn', pretty: false });
      const database = openDatabase(options.databaseUrl, { max: options.poolSize ?? 10, logger });
      const app = await benchHttpServer('tickets', { logger });
      await registerService(app, ticketsService(options.tickets), { database, logger });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const stop = () =>
        void app
          .close()
          .then(() => database.close())
          .then(() => process.exit(0));
      process.on('message', (message: { type?: string }) => {
        if (message.type === 'stop') stop();
      });
      process.once('disconnect', stop); // the benchmark died: do not linger
      process.send?.({ type: 'ready', url } satisfies Ready);
    })();
  });
}
