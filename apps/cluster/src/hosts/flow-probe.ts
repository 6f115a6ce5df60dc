/**
 * Whether events flow, measured end to end: a seller reprices one ticket of its own every 100 ms
 * through the entry, and the probe watches the orders service's replica of that ticket catch up.
 * Each edit is an event (ticket:updated) that crosses the broker; `flowingAfter(t)` is the moment
 * the first edit made after `t` reached the replica, so the time from a fault to events flowing
 * again is `flowingAfter(t) - t`, to within the probe's period.
 */
import pg from 'pg';
import { HttpUser } from '../client.ts';

const PERIOD_MS = 100;

interface Edit {
  startedAt: number;
  version: number;
  seenAt?: number;
}

export class FlowProbe {
  private readonly edits: Edit[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];

  private constructor(
    private readonly seller: HttpUser,
    private readonly ticketId: string,
    private readonly replica: pg.Client,
  ) {}

  static async start(entryUrl: string, ordersDatabaseUrl: string): Promise<FlowProbe> {
    const seller = await new HttpUser(entryUrl).signUp();
    const { status, body } = await seller.request<{ id: string }>('POST', '/api/tickets', {
      title: 'flow probe',
      price: 10,
    });
    if (status !== 201) throw new Error(`the probe could not list its ticket: ${status}`);
    const replica = new pg.Client({ connectionString: ordersDatabaseUrl });
    replica.on('error', () => {});
    await replica.connect();
    const probe = new FlowProbe(seller, body.id, replica);
    probe.loops.push(probe.edit(), probe.watch());
    return probe;
  }

  /** When the first edit started at or after `since` reached the replica. */
  async flowingAfter(since: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const edit = this.edits.find((e) => e.startedAt >= since && e.seenAt !== undefined);
      if (edit) return edit.seenAt!;
      if (Date.now() > deadline) throw new Error(`no event flowed within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, PERIOD_MS / 2));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await this.replica.end().catch(() => {});
  }

  private async edit(): Promise<void> {
    for (let price = 11; this.running; price = price === 99 ? 11 : price + 1) {
      const startedAt = Date.now();
      try {
        const { status, body } = await this.seller.request<{ version: number }>(
          'PUT',
          `/api/tickets/${this.ticketId}`,
          { title: 'flow probe', price },
        );
        if (status === 200) this.edits.push({ startedAt, version: body.version });
      } catch {
        // the entry did not answer: the next edit tries again
      }
      await new Promise((resolve) => setTimeout(resolve, PERIOD_MS));
    }
  }

  private async watch(): Promise<void> {
    while (this.running) {
      try {
        const { rows } = await this.replica.query<{ version: number }>(
          'select version from tickets where id = $1',
          [this.ticketId],
        );
        const version = rows[0]?.version ?? -1;
        const now = Date.now();
        for (const edit of this.edits)
          if (edit.seenAt === undefined && edit.version <= version) edit.seenAt = now;
      } catch {
        // the database is away: try again
      }
      await new Promise((resolve) => setTimeout(resolve, PERIOD_MS / 4));
    }
  }
}
