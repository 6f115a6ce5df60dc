/**
 * The auth service: user accounts, their sessions, and the only one to begin a session (every
 * service verifies and renews session cookies with the shared key). It publishes
 * `session:revoked` when a session ends early (signed out), and listens to nothing: nobody else
 * needs users, only the id and email the session carries.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ticketing/common';
import { dummyPasswordHash } from './domain/passwords.ts';
import { forgetEndedSessions } from './domain/sessions.ts';
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
    background: ({ database, logger }) => {
      // Sessions long ended are only history: forgotten a minute after start, then hourly.
      const forget = () => {
        forgetEndedSessions(database).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not forget ended sessions; will try again'),
        );
      };
      let timer = setTimeout(() => {
        forget();
        timer = setInterval(forget, 3_600_000).unref();
      }, 60_000).unref();
      return { stop: async () => clearTimeout(timer) };
    },
  };
}
