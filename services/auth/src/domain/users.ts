/**
 * Accounts: signing up and signing in, each of which begins a session (sessions.ts). Emails are compared case-insensitively by normalising them
 * (trim, lower-case) before they are stored or looked up; the database's unique constraint, not a
 * prior lookup, decides who gets an email, so concurrent signups cannot both win.
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  isUniqueViolation,
  type CurrentUser,
  type Database,
  type SessionLifetimes,
} from '@ticketing/common';
import { USERS_EMAIL_UNIQUE } from '../data-access/schema.ts';
import { findUserByEmail, insertUser } from '../data-access/users-repository.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { beginSession, type SessionStart } from './sessions.ts';
import { COMMON_PASSWORD_MESSAGE, isCommonPassword } from './common-passwords.ts';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;
export const MAX_EMAIL_LENGTH = 254;

export interface Credentials {
  email: string;
  password: string;
}

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/** A signed-in user and the session just begun for them. */
export interface SignedIn {
  user: CurrentUser;
  session: SessionStart;
}

/**
 * A new account, signed in. Its password is 8 to 128 characters (the route's schema) and not one
 * of the most common ones; the email is not another account's.
 */
export async function signUp(
  db: Database,
  { email, password }: Credentials,
  lifetimes: SessionLifetimes,
): Promise<SignedIn> {
  if (isCommonPassword(password)) throw new BadRequestError(COMMON_PASSWORD_MESSAGE, 'password');
  const passwordHash = await hashPassword(password);
  try {
    return await db.transaction(async (tx) => {
      const user = await insertUser(tx, { id: randomUUID(), email: normaliseEmail(email), passwordHash });
      const session = await beginSession(tx, user.id, lifetimes);
      return { user: { id: user.id, email: user.email }, session };
    });
  } catch (error) {
    if (isUniqueViolation(error, USERS_EMAIL_UNIQUE)) throw new BadRequestError('Email in use', 'email');
    throw error;
  }
}

/**
 * The user with these credentials. Unknown email and wrong password fail alike, in the same time
 * (the KDF runs against a dummy hash when there is no user), so neither the body nor the timing
 * tells an attacker which emails have accounts.
 */
export async function signIn(
  db: Database,
  { email, password }: Credentials,
  lifetimes: SessionLifetimes,
): Promise<SignedIn> {
  const user = await findUserByEmail(db, normaliseEmail(email));
  const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !matches) throw new BadRequestError('Invalid credentials');
  const session = await db.transaction((tx) => beginSession(tx, user.id, lifetimes));
  return { user: { id: user.id, email: user.email }, session };
}
