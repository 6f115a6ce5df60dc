/** The user as clients see it: id and email only; the password hash never leaves the service. */
import { Type, type Static } from 'typebox';
import type { CurrentUser } from '@ticketing/common';

export const UserJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
  },
  { $id: 'User' },
);

/** Picks the public fields explicitly, so that adding a column can never leak it. */
export function userJson(user: CurrentUser): Static<typeof UserJson> {
  return { id: user.id, email: user.email };
}
