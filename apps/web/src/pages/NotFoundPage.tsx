import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useTitle } from '../hooks.ts';

/** `children`: where else to look, when the page can tell. */
export function NotFound({ what = 'page', children }: { what?: string; children?: ReactNode }) {
  useTitle('Not found');
  return (
    <section className="empty card" aria-labelledby="not-found-title">
      <h1 id="not-found-title">We couldn’t find that {what}</h1>
      <p className="muted">It may have been removed, or the link is mistyped.</p>
      {children}
      <Link to="/" className="button button-primary">
        Browse tickets
      </Link>
    </section>
  );
}
