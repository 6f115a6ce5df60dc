/**
 * The relay's lease: one replica per database leads at a time. The lease is a session advisory
 * lock held by a connection of its own, so it lasts exactly as long as that session: a leader that
 * stops, crashes or loses its database loses the lease, and a standby, trying every second, takes
 * it. The same connection LISTENs for wake-ups from other replicas' commits and carries the change
 * announcements (hints that need no flush to disk).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { SESSION_KEEPALIVES } from '../db/database.ts';
import { OUTBOX_CHANNEL } from '../db/unit-of-work.ts';

const RETRY_MS = 1_000;

export interface LeaseEvents {
  /** The lease was taken: this replica leads. */
  acquired(): void;
  /** A wake-up from another replica's commit arrived. */
  woken(): void;
}

export class RelayLease {
  /** The leading session, while this replica leads. */
  private client: pg.Client | undefined;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly events: LeaseEvents,
    private readonly log: Logger,
  ) {}

  get held(): boolean {
    return this.client !== undefined && !this.stopped;
  }

  /** The leading session, for statements that must come from the leader (announcements). */
  get session(): pg.Client | undefined {
    return this.held ? this.client : undefined;
  }

  /** Tries for the lease until it is taken or the lease is stopped. */
  start(): void {
    void this.acquire();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async acquire(): Promise<void> {
    while (!this.stopped && !this.client) {
      // The server ends the session of a leader whose host vanished within about 15 s, and the
      // lock with it, so that a standby can lead (SESSION_KEEPALIVES).
      const client = new pg.Client({ connectionString: this.databaseUrl, options: SESSION_KEEPALIVES });
      client.on('error', () => {}); // surfaced through 'end'
      try {
        await client.connect();
        const { rows } = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock(hashtext($1)) as locked',
          ['ticketing:outbox-relay'],
        );
        if (rows[0]?.locked && !this.stopped) {
          await client.query(`listen ${OUTBOX_CHANNEL}`);
          await client.query('set synchronous_commit = off');
          client.on('notification', () => this.events.woken());
          client.on('end', () => this.lost(client));
          this.client = client;
          this.log.debug('outbox relay is the leader');
          this.events.acquired();
          return;
        }
        await client.end();
      } catch (error) {
        this.log.warn({ err: error }, 'outbox relay cannot reach its database; retrying');
        await client.end().catch(() => {});
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopped) return;
    this.log.warn('outbox relay lost its database connection; re-acquiring leadership');
    void this.acquire();
  }
}
