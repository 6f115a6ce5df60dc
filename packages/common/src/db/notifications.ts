/**
 * LISTEN on a Postgres channel from a dedicated connection that reconnects when the server goes
 * away. Notifications are hints to look now; whoever listens also polls, so a notification lost
 * during a reconnect only delays work, never loses it.
 */
import pg from 'pg';
import type { Logger } from 'pino';

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
    const next = new pg.Client({ connectionString: url });
    next.on('error', () => {}); // surfaced through 'end'
    next.on('notification', (message) => onNotify(message.payload ?? ''));
    next.on('end', () => {
      if (client === next && !closed) {
        client = undefined;
        retry = setTimeout(() => void connect(), 1_000);
      }
    });
    try {
      await next.connect();
      await next.query(`listen ${channel}`);
      client = next;
      onNotify(); // whatever was notified while we were away
    } catch (error) {
      logger.warn({ err: error, channel }, 'cannot listen for notifications; retrying');
      await next.end().catch(() => {});
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
