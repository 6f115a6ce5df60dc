import { Link } from 'react-router';
import { useTitle } from '../hooks.ts';

export function NotFound({ what = 'page' }: { what?: string }) {
  useTitle('Not found');
  return (
    <section className="empty card" aria-labelledby="not-found-title">
      <h1 id="not-found-title">We couldn’t find that {what}</h1>
      <p className="muted">It may have been removed, or the link is mistyped.</p>
      <Link to="/" className="button button-primary">
        Browse tickets
      </Link>
    </section>
  );
}
