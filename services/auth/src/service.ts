/**
 * The auth service: user accounts and the only issuer of session cookies (every service verifies
 * them with the shared key). It publishes no events and listens to none: nobody else needs users,
 * only the id and email the session carries.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ticketing/common';
import { dummyPasswordHash } from './domain/passwords.ts';
import { currentUserRoute } from './entry-points/http/current-user.ts';
import { signInRoute } from './entry-points/http/sign-in.ts';
import { signOutRoute } from './entry-points/http/sign-out.ts';
import { signUpRoute } from './entry-points/http/sign-up.ts';
import { UserJson } from './entry-points/http/user-json.ts';

export function authService(): ServiceModule {
  return {
    name: 'auth',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      // Made now rather than on the first unknown-email sign-in, which would otherwise take twice as long.
      await dummyPasswordHash();
      app.addSchema(UserJson);
      await signUpRoute(app, context);
      await signInRoute(app, context);
      await signOutRoute(app, context);
      await currentUserRoute(app, context);
    },
  };
}
