import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Name of the unique constraint on `users.email`; a violation of it means "Email in use". */
export const USERS_EMAIL_UNIQUE = 'users_email_unique';

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    /**
     * Stored normalised (trimmed, lower-cased), so that the unique constraint makes emails unique
     * case-insensitively; the check keeps a stray un-normalised write from slipping past it.
     */
    email: text('email').notNull().unique(USERS_EMAIL_UNIQUE),
    /** `scrypt$N$r$p$salt$hash`, see domain/passwords.ts. Never leaves the service. */
    passwordHash: text('password_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [check('users_email_normalised', sql`${t.email} = lower(btrim(${t.email}))`)],
);

export type UserRow = typeof users.$inferSelect;

/**
 * Every session a sign-up or sign-in began: the id its tokens carry (`sid`), whose it is, when it
 * began (`created_at`, the `started` of its tokens, in milliseconds) and ends at the latest
 * (`expires_at`: the absolute timeout), and when it was signed out (`revoked_at`). Tokens are
 * renewed by every service without telling auth, so this table knows no token's idle expiry.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);
