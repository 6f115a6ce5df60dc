/** The user as clients see it: id and email only; the password hash never leaves the service. */
import { Type, type Static } from 'typebox';
import type { CurrentUser } from '@ticketing/common';

/** A named schema (`User` in the OpenAPI document): routes refer to it with `ref(UserJson)`. */
export const UserJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email', description: 'Lower-cased when signing up.' }),
  },
  { $id: 'User' },
);

/** The `Set-Cookie` header of the routes that start or end a session. */
export const SESSION_COOKIE_HEADER = {
  'set-cookie': {
    type: 'string',
    description: 'The `session` cookie (httpOnly, SameSite=Lax, Path=/; Secure in production).',
  },
};

/** The `Set-Cookie` header of the routes that sign an account in: the session, and the device cookie. */
export const SIGNED_IN_COOKIES_HEADER = {
  'set-cookie': {
    type: 'string',
    description:
      'The `session` cookie (httpOnly, SameSite=Lax, Path=/; Secure in production), and the `device` cookie (httpOnly, SameSite=Strict, Path=/api/users/signin; Secure in production): signed, it says this browser signed in to this account, and sign-ins to the account that send it are exempt from its backoff.',
  },
};

/** Picks the public fields explicitly, so that adding a column can never leak it. */
export function userJson(user: CurrentUser): Static<typeof UserJson> {
  return { id: user.id, email: user.email };
}
