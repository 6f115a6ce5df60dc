/**
 * The signed-in user's account: who they are signed in as, signing out here (the header's way on
 * phones, where it has no room for the button) and signing out on every device.
 */
import { useState } from 'react';
import { Navigate } from 'react-router';
import { api, ApiError } from '../api.ts';
import { useTitle } from '../hooks.ts';
import { RequireUser, useSession } from '../session.tsx';

/**
 * For a signed-in user; anyone else is sent to sign in. Once signed out everywhere from here, the
 * visitor goes home instead (not to sign in and back here, as a page that needs a user would send them).
 */
export function AccountPage() {
  useTitle('Account');
  const [signedOut, setSignedOut] = useState(false);
  if (signedOut) return <Navigate to="/" replace />;
  return (
    <RequireUser>
      <Account onSignedOut={() => setSignedOut(true)} />
    </RequireUser>
  );
}

function Account({ onSignedOut }: { onSignedOut: () => void }) {
  const { user, setUser } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function signOut(everywhere: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      await (everywhere ? api.signOutEverywhere() : api.signOut());
      onSignedOut();
      setUser(null);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="account-title">
      <div className="page-head">
        <div>
          <h1 id="account-title">Account</h1>
          <p className="lead">
            Signed in as <strong>{user?.email}</strong>
          </p>
        </div>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void signOut(false)}
          disabled={busy}
        >
          Sign out
        </button>
      </div>
      <div className="card stack">
        <h2>Sessions</h2>
        <p className="muted">
          Signed in on a device you no longer use, or lost one? Signing out everywhere ends every session of
          your account at once, on every device and browser, this one included. You can sign in again right
          after.
        </p>
        {error ? (
          <div className="alert alert-error" role="alert">
            <p>{error}</p>
          </div>
        ) : null}
        <div>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void signOut(true)}
            disabled={busy}
          >
            {busy ? 'Signing out everywhere…' : 'Sign out everywhere'}
          </button>
        </div>
      </div>
    </section>
  );
}
