import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

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
