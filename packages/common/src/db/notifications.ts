/**
 * LISTEN on a Postgres channel from a dedicated connection that reconnects when the server goes
 * away. Notifications are hints to look now; whoever listens also polls, so a notification lost
 * during a reconnect only delays work, never loses it.
 */
import pg from 'pg';
import type { Logger } from 'pino';

const HEARTBEAT_MS = 5_000;

export interface NotificationListener {
  /** True while the connection is up and listening. */
  readonly listening: boolean;
  close(): Promise<void>;
}

export function listenForNotifications(
  url: string,
  channel: string,
  /** With the payload of each notification; with none after (re)connecting: some may have been missed. */
  onNotify: (payload?: string) => void,
  logger: Logger,
): NotificationListener {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    // A silent network cut would leave a listener that hears nothing and does not know it: the
    // heartbeat ends such a connection (and reconnects) within HEARTBEAT_MS plus its timeout.
    const next = new pg.Client({ connectionString: url, query_timeout: HEARTBEAT_MS });
    next.on('error', () => {}); // surfaced through 'end'
    next.on('notification', (message) => onNotify(message.payload ?? ''));
    let heartbeat: NodeJS.Timeout | undefined;
    next.on('end', () => {
      clearInterval(heartbeat);
      if (client === next && !closed) {
        client = undefined;
        retry = setTimeout(() => void connect(), 1_000);
      }
    });
    try {
      await next.connect();
      await next.query(`listen ${channel}`);
      if (closed) {
        await next.end().catch(() => {});
        return;
      }
      client = next;
      heartbeat = setInterval(() => {
        next.query('select 1').catch(() => void next.end().catch(() => {}));
      }, HEARTBEAT_MS).unref();
      onNotify(); // whatever was notified while we were away
    } catch (error) {
      await next.end().catch(() => {});
      if (closed) return;
      logger.warn({ err: error, channel }, 'cannot listen for notifications; retrying');
      retry = setTimeout(() => void connect(), 1_000);
    }
  };
  void connect();

  return {
    get listening() {
      return client !== undefined;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
