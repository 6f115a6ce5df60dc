/**
 * Which path goes where, for every entry of the cluster (the Node gateway, HAProxy's configuration
 * for the scale-out mode and the multi-host bed, the supervisor's site): the prefix each service
 * owns, and the paths of the site.
 */
import type { ServiceName } from './cluster.ts';

/** Which service serves a path (the prefix itself, or below it); expiration has no public routes. */
export const ROUTES: [prefix: string, service: ServiceName][] = [
  ['/api/users', 'auth'],
  ['/api/tickets', 'tickets'],
  ['/api/orders', 'orders'],
  ['/api/payments', 'payments'],
];

/** The prefix of the API documentation's routes (the UI, its assets, `/json` and `/yaml`). */
export const DOCS_PREFIX = '/api/docs';

/** A path for the supervisor's site: the API documentation, or anything outside `/api`. */
export function isSitePath(path: string): boolean {
  if (path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`)) return true;
  return path !== '/api' && !path.startsWith('/api/');
}

/** The service a request path belongs to, if any. */
export function serviceOf(path: string): ServiceName | undefined {
  return ROUTES.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1];
}
