/**
 * The sessions a process refuses before their time, in memory: what the session check asks on
 * every request, without a query. Filled from the service's `session_revocations` table at start
 * and kept current by a notification on every insert (revocation-store.ts); the auth service also
 * adds what it revokes itself, at once.
 *
 * Two kinds: one session (a sign-out), by its id; and every session of a user that began before
 * a moment (a sign-out everywhere), by the user. Entries are forgotten once every token they name
 * is past its absolute lifetime, which the check refuses by itself.
 */

export interface Revocation {
  userId: string;
  /** One session; absent: every session of `userId` that began before `revokedAt`. */
  sessionId?: string;
  /** Milliseconds since the epoch (the auth service's clock, like a session's start). */
  revokedAt: number;
  /** Milliseconds since the epoch: every token named is past its absolute lifetime by then. */
  expiresAt: number;
}

export class SessionRevocations {
  /** Revoked session ids, with when they may be forgotten. */
  private readonly sessions = new Map<string, number>();
  /** Per user: sessions begun before `before` are refused, until `expiresAt`. */
  private readonly users = new Map<string, { before: number; expiresAt: number }>();

  /** Records a revocation; recording one twice (or an older cutoff) changes nothing. */
  add(revocation: Revocation): void {
    if (revocation.sessionId !== undefined) {
      const known = this.sessions.get(revocation.sessionId) ?? 0;
      this.sessions.set(revocation.sessionId, Math.max(known, revocation.expiresAt));
      return;
    }
    const known = this.users.get(revocation.userId);
    this.users.set(revocation.userId, {
      before: Math.max(known?.before ?? 0, revocation.revokedAt),
      expiresAt: Math.max(known?.expiresAt ?? 0, revocation.expiresAt),
    });
  }

  /** True when the session `sessionId` of `userId`, begun at `startedAt` (ms), was revoked. */
  isRevoked(userId: string, sessionId: string, startedAt: number): boolean {
    if (this.sessions.has(sessionId)) return true;
    const cutoff = this.users.get(userId);
    return cutoff !== undefined && startedAt < cutoff.before;
  }

  /** Forgets what expired before `now` (ms): its tokens are refused for their age alone. */
  prune(now: number): void {
    for (const [id, expiresAt] of this.sessions) if (expiresAt < now) this.sessions.delete(id);
    for (const [id, { expiresAt }] of this.users) if (expiresAt < now) this.users.delete(id);
  }

  /** How many revocations are held. */
  get size(): number {
    return this.sessions.size + this.users.size;
  }
}
