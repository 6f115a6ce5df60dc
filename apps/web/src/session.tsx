/**
 * Who is signed in, for every page. Read from `/api/users/currentuser` at start (the cookie is
 * httpOnly, so the API is the only one who can tell), then kept in step by sign up, sign in and
 * sign out, and read again after any 401: a session that ended elsewhere (signed out in another
 * tab, expired) shows as signed out at once, and the pages that need a user send them to sign in.
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { api, onUnauthorized, type User } from './api.ts';

interface Session {
  /** `undefined` while the first answer is on its way. */
  user: User | null | undefined;
  setUser: (user: User | null) => void;
  signOut: () => Promise<void>;
  /** Asks the API again who is signed in; resolves with the answer once the session holds it. */
  refresh: () => Promise<User | null>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUserState] = useState<User | null | undefined>(undefined);
  // Bumped by every sign-in, sign-up and sign-out: an answer asked for before one of those is
  // about the session as it was, and is dropped.
  const epoch = useRef(0);
  const inFlight = useRef<Promise<User | null> | null>(null);
  const setUser = useCallback((next: User | null) => {
    epoch.current += 1;
    setUserState(next);
  }, []);
  /** One question at a time, however many 401s ask it. */
  const refresh = useCallback(() => {
    if (inFlight.current) return inFlight.current;
    const asked = epoch.current;
    const answer = api
      .currentUser()
      .then((current) => {
        if (epoch.current === asked) setUserState(current);
        return current;
      })
      .finally(() => {
        inFlight.current = null;
      });
    inFlight.current = answer;
    return answer;
  }, []);
  useEffect(() => {
    // The API is down: browse signed out; actions will say why they fail.
    refresh().catch(() => setUserState((current) => (current === undefined ? null : current)));
  }, [refresh]);
  const signOut = useCallback(async () => {
    await api.signOut();
    setUser(null);
  }, [setUser]);
  // (A failed check leaves the session as it was: the API being down is not a sign-out.)
  useEffect(() => onUnauthorized(() => void refresh().catch(() => undefined)), [refresh]);
  const value = useMemo(() => ({ user, setUser, signOut, refresh }), [user, setUser, signOut, refresh]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionProvider>');
  return session;
}

/** Where to come back to after signing in; only paths of this site (no `//evil.example`). */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export const signInPath = (next: string) =>
  next === '/' ? '/auth/signin' : `/auth/signin?next=${encodeURIComponent(next)}`;

/** Sends a signed-out person to sign in, with the way back to where they were. */
export function useSignInRedirect(): () => void {
  const navigate = useNavigate();
  const location = useLocation();
  return useCallback(
    () => void navigate(signInPath(location.pathname + location.search)),
    [navigate, location],
  );
}

/** Renders its page for a signed-in user; sends anyone else to sign in and back. */
export function RequireUser({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  if (user === undefined) return <p className="muted loading">Loading…</p>;
  if (user === null) return <Navigate to={signInPath(location.pathname + location.search)} replace />;
  return children;
}
