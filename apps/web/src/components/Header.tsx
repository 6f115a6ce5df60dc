import { useState } from 'react';
import { Link, NavLink, useNavigate } from 'react-router';
import { useSession } from '../session.tsx';

export function Header() {
  const { user, signOut } = useSession();
  const navigate = useNavigate();
  const [signingOut, setSigningOut] = useState(false);

  async function onSignOut() {
    setSigningOut(true);
    try {
      await signOut();
      await navigate('/');
    } finally {
      setSigningOut(false);
    }
  }

  return (
    <header className={`site-header${user ? ' signed-in' : ''}`}>
      <div className="container header-inner">
        <Link to="/" className="brand" aria-label="Ticketing, home">
          <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
            <rect width="24" height="24" rx="6" className="brand-mark-bg" />
            <path
              className="brand-mark-ticket"
              d="M5 8.5A1.5 1.5 0 0 1 6.5 7h11A1.5 1.5 0 0 1 19 8.5V10a2 2 0 0 0 0 4v1.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 5 15.5V14a2 2 0 0 0 0-4z"
            />
            <path className="brand-mark-cut" d="M14 8v8" />
          </svg>
          <span className="brand-name">Ticketing</span>
        </Link>
        <nav className="nav" aria-label="Main">
          {user === undefined ? null : user ? (
            <>
              {/* "Sell" alone on a phone, where four links fill the row; its name stays whole. */}
              <NavLink to="/tickets/new" className="nav-link" aria-label="Sell tickets">
                Sell<span className="nav-link-more"> tickets</span>
              </NavLink>
              <NavLink to="/tickets/mine" className="nav-link">
                My tickets
              </NavLink>
              <NavLink to="/orders" end className="nav-link">
                My orders
              </NavLink>
              {/* The email beside the icon on wide screens; on narrower ones the icon alone, which
                  stands for signing out too (the button is on the account page). */}
              {/* Its name holds what it shows (WCAG 2.5.3): "Account", then the email where it shows. */}
              <NavLink to="/account" className="nav-link nav-account" title={user.email}>
                <svg className="nav-account-icon" viewBox="0 0 24 24" aria-hidden="true">
                  <circle cx="12" cy="8" r="3.5" />
                  <path d="M5 19.5c0-3.6 3.1-5.5 7-5.5s7 1.9 7 5.5" />
                </svg>
                <span className="visually-hidden">Account</span>
                <span className="nav-user">{user.email}</span>
              </NavLink>
              <button
                type="button"
                className="button button-ghost button-small header-sign-out"
                onClick={() => void onSignOut()}
                disabled={signingOut}
              >
                Sign out
              </button>
            </>
          ) : (
            <>
              <NavLink to="/auth/signin" className="nav-link">
                Sign in
              </NavLink>
              <Link to="/auth/signup" className="button button-primary button-small">
                Sign up
              </Link>
            </>
          )}
        </nav>
      </div>
    </header>
  );
}
