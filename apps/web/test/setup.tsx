/**
 * Shared by the component tests: Testing Library cleanup between tests (Vitest has no globals
 * here, so it does not register itself), and a fake API at the network edge: `fetch` is the only
 * thing replaced; everything above it (the API client, forms, router) runs for real.
 */
import { cleanup, configure, render, screen } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { MemoryRouter, useLocation } from 'react-router';
import type { ReactElement } from 'react';
import { App } from '../src/App.tsx';
import { SessionProvider } from '../src/session.tsx';

// findBy*/waitFor: the default second is short on a busy two-core CI machine running the suites
// side by side; a broken page still fails, only later.
configure({ asyncUtilTimeout: 5_000 });

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface Call {
  method: string;
  path: string;
  /** The query string's parameters. */
  query: URLSearchParams;
  body: unknown;
}
type Handler = Reply | ((call: Call) => Reply);

/**
 * Replaces `fetch` with answers by "METHOD /path" (query string ignored). A list of answers is
 * used in turn, its last one repeating. Anything unlisted is the API's JSON 404.
 */
export function fakeApi(routes: Record<string, Handler | Handler[]>) {
  const calls: Call[] = [];
  const used = new Map<string, number>();
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const { pathname: path, searchParams: query } = new URL(url, 'http://localhost');
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const call = { method, path, query, body };
    calls.push(call);
    const key = `${method} ${path}`;
    const route = routes[key];
    let handler: Handler | undefined;
    if (Array.isArray(route)) {
      const index = used.get(key) ?? 0;
      used.set(key, index + 1);
      handler = route[Math.min(index, route.length - 1)];
    } else handler = route;
    const reply: Reply = handler
      ? typeof handler === 'function'
        ? handler(call)
        : handler
      : { status: 404, body: { errors: [{ message: 'Not found' }] } };
    const status = reply.status ?? 200;
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    calls,
    /** The calls made to "METHOD /path". */
    callsTo: (key: string) => calls.filter((call) => `${call.method} ${call.path}` === key),
  };
}

export const ann = { id: '6f1d1c2e-1111-4a4a-8b8b-000000000001', email: 'ann@example.com' };
export const signedOut = { 'GET /api/users/currentuser': { body: { currentUser: null } } };
export const signedInAs = (user = ann) => ({ 'GET /api/users/currentuser': { body: { currentUser: user } } });

function Location() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

/** The whole app at `path`, with the current location readable via `currentPath()`. */
export function renderApp(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <SessionProvider>
        <App />
        <Location />
      </SessionProvider>
    </MemoryRouter>,
  );
}

export const currentPath = () => screen.getByTestId('location').textContent;

/** The text of the error tied to an input (what a screen reader reads with it). */
export function errorOf(element: HTMLElement): string {
  const ids = element.getAttribute('aria-describedby')?.split(' ') ?? [];
  return ids
    .map((id) => document.getElementById(id))
    .filter((node) => node?.classList.contains('field-error'))
    .map((node) => node!.textContent)
    .join(' ');
}

export function renderWithRouter(element: ReactElement) {
  return render(<MemoryRouter>{element}</MemoryRouter>);
}
