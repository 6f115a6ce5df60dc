/** Reads and writes of the users table; plain objects in, plain objects out. */
import { eq } from 'drizzle-orm';
import type { Executor } from '@ticketing/common';
import { users, type UserRow } from './schema.ts';

export type User = UserRow;

/** Inserts a user; rejects with a unique violation (USERS_EMAIL_UNIQUE) when the email is taken. */
export async function insertUser(
  db: Executor,
  values: Pick<User, 'id' | 'email' | 'passwordHash'>,
): Promise<User> {
  const [row] = await db.insert(users).values(values).returning();
  return row!;
}

/** The user with this (already normalised) email. */
export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email));
  return row;
}
