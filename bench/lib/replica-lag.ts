/**
 * Replication lag, measured one way by `bench:replication` and `bench:hosts`: ticket edits at a
 * steady open-loop rate, each timed from its HTTP response (the commit) to the moment a poller of
 * the orders database first sees the version it saved.
 */
import type pg from 'pg';
import { sleep } from './measure.ts';

/**
 * Calls `fire(n)` at `rate` per second for `seconds`, open loop: a call is due at its time whether
 * or not the earlier ones have been answered. Resolves, once all have settled, with the rate at
 * which they were sent and how many failed (a failure is counted, not thrown: the run goes on).
 */
export async function openLoop(
  rate: number,
  seconds: number,
  fire: (n: number) => Promise<void>,
): Promise<{ sentPerSecond: number; failed: number }> {
  const total = rate * seconds;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let sent = 0;
  let failed = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) pending.push(fire(sent++).catch(() => void failed++));
    await sleep(2);
  }
  const sentPerSecond = sent / ((performance.now() - started) / 1000);
  await Promise.all(pending);
  return { sentPerSecond, failed };
}

/**
 * Watches the orders replica's versions of some tickets: when each version was first seen. Only
 * the tickets with a version awaited are polled, every `pollMs`: a poller reading all of them every
 * few milliseconds took enough of two cores to slow what it measured.
 */
export class ReplicaWatch {
  private readonly seen = new Map<string, number>(); // `${id}:${version}` → first seen
  private readonly last = new Map<string, number>(); // id → the newest version seen
  private readonly awaited = new Map<string, number>(); // id → the version awaited
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly client: pg.Client,
    private readonly pollMs = 1,
  ) {
    this.loop = this.poll();
  }

  /** Polls `id` until the replica holds `version` of it. */
  watch(id: string, version: number): void {
    this.awaited.set(id, Math.max(version, this.awaited.get(id) ?? 0));
  }

  seenAt(id: string, version: number): number | undefined {
    return this.seen.get(`${id}:${version}`);
  }

  /** Resolves with the time the replica held every version in `wanted`; throws after `timeoutMs`. */
  async until(wanted: Map<string, number>, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const missing = [...wanted].filter(([id, version]) => (this.last.get(id) ?? 0) < version);
      if (missing.length === 0) return performance.now();
      if (performance.now() > deadline) throw new Error(`${missing.length} tickets never caught up`);
      for (const [id, version] of missing) this.watch(id, version);
      await sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      if (this.awaited.size > 0) {
        const { rows } = await this.client.query<{ id: string; version: number }>(
          'select id, version from tickets where id = any($1::uuid[])',
          [[...this.awaited.keys()]],
        );
        const now = performance.now();
        for (const row of rows) {
          const last = this.last.get(row.id) ?? 0;
          for (let v = last + 1; v <= row.version; v++) this.seen.set(`${row.id}:${v}`, now);
          if (row.version > last) this.last.set(row.id, row.version);
          if (row.version >= this.awaited.get(row.id)!) this.awaited.delete(row.id);
        }
      }
      await sleep(this.pollMs);
    }
  }
}

/** A ticket being edited: its owner's session, and the version its last edit saved. */
export interface EditedTicket {
  id: string;
  cookie: string;
  version: number;
}

export interface SteadyEdits {
  /** Edits per second, offered; `warmupSeconds` of them unmeasured, then `seconds` measured. */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  tickets: EditedTicket[];
  /** Sends edit `n` of `ticket`; answers the version it saved and when its response came. */
  edit(ticket: EditedTicket, n: number): Promise<{ version: number; doneAt: number }>;
  /** How long to wait, after the last edit, for the replica to hold every version. */
  catchUpMs: number;
}

export interface LagFigures {
  /** Measured edits answered per second. */
  achieved: number;
  /** The lag of each measured edit the replica was seen to hold, in ms, sorted. */
  lags: number[];
  /** Edits not sent because every ticket had one in flight. */
  skipped: number;
  failed: number;
  /** Measured edits whose version the replica was not seen to hold within `catchUpMs`. */
  unseen: number;
}

/**
 * Edits `tickets` at `rate` per second, open loop, each ticket one edit at a time (a ticket with an
 * edit in flight is passed over for the next one, and an edit finding all of them busy is skipped),
 * then waits for the replica to catch up; the lag of each measured edit.
 */
export async function steadyEdits(watch: ReplicaWatch, options: SteadyEdits): Promise<LagFigures> {
  const { tickets } = options;
  const committed = new Map<string, number>(); // `${id}:${version}` → response (measured only)
  const busy = new Set<number>();
  const measureFrom = performance.now() + options.warmupSeconds * 1000;
  let cursor = 0;
  let skipped = 0;
  const { failed } = await openLoop(options.rate, options.warmupSeconds + options.seconds, async (n) => {
    let i = cursor;
    while (busy.has(i) && (i + 1) % tickets.length !== cursor) i = (i + 1) % tickets.length;
    cursor = (cursor + 1) % tickets.length;
    if (busy.has(i)) {
      skipped++;
      return;
    }
    busy.add(i);
    const ticket = tickets[i]!;
    const measured = performance.now() >= measureFrom;
    watch.watch(ticket.id, ticket.version + 1); // seen from the start, should it beat the response
    try {
      const { version, doneAt } = await options.edit(ticket, n);
      ticket.version = version;
      watch.watch(ticket.id, version);
      if (measured) committed.set(`${ticket.id}:${version}`, doneAt);
    } finally {
      busy.delete(i);
    }
  });
  await watch.until(new Map(tickets.map((t) => [t.id, t.version])), options.catchUpMs).catch(() => undefined); // counted below, as unseen
  const lags: number[] = [];
  for (const [key, doneAt] of committed) {
    const [id, version] = key.split(':');
    const seenAt = watch.seenAt(id!, Number(version));
    if (seenAt !== undefined) lags.push(Math.max(0, seenAt - doneAt));
  }
  return {
    achieved: committed.size / options.seconds,
    lags: lags.sort((a, b) => a - b),
    skipped,
    failed,
    unseen: committed.size - lags.length,
  };
}
