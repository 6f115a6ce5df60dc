/**
 * The typed client of the marketplace API. Same origin (the marketplace serves this app, and Vite
 * proxies `/api` in development), so the httpOnly session cookie travels by itself. Every failure
 * becomes an `ApiError` carrying the API's `{ message, field? }` items, so forms can put each
 * message beside its input.
 */

import type { components, operations } from './api-types.ts';

// The API's types, named from the OpenAPI document the marketplace serves (generated into
// api-types.ts by `npm run generate:api-types`); their fields are documented there.
type Schemas = components['schemas'];
/** The JSON body of an operation's 200 response. */
type Ok<Operation extends keyof operations> = operations[Operation]['responses'] extends {
  200: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

export type User = Schemas['User'];
export type Ticket = Schemas['Ticket'];
export type Order = Schemas['Order'];
export type OrderStatus = Order['status'];
/** A payment that went through: `amount` is the order's price, in currency units. */
export type Payment = Schemas['Payment'];
export type ErrorItem = Schemas['Error']['errors'][number];

/**
 * What a seller types: `faceValue` defaults to the price when left out; `venue`, `city` and
 * `startsAt` (ISO-8601, in the future) are optional, and an edit that leaves them out keeps them.
 * The API also takes prices as strings; this client sends numbers.
 */
export type TicketInput = NonNullable<
  operations['createTicket']['requestBody']
>['content']['application/json'] & {
  price: number;
  faceValue?: number;
};

/** What a buyer looks for; every part optional. Dates are ISO-8601, prices currency units. */
export type TicketSearch = Omit<
  NonNullable<operations['listTickets']['parameters']['query']>,
  'limit' | 'cursor'
>;
export type Sort = NonNullable<TicketSearch['sort']>;
/** Every sort the API knows, in the order the search form offers them. */
export const SORTS = ['newest', 'price', 'startsAt'] as const satisfies readonly Sort[];
// A sort the API comes to know fails to compile here until it is offered.
const _everySortOffered: [Exclude<Sort, (typeof SORTS)[number]>] extends [never] ? true : false = true;

/** A page of tickets for sale, and the address of the next one (null on the last). */
export interface TicketPage {
  tickets: Ticket[];
  next: string | null;
}

/** The secret a door scanner reads: 32 characters of A–Z and 2–7, new with each owner. */
export type Credential = Ok<'getTicketCredential'>;
export type CredentialCheck = Ok<'verifyTicketCredential'>;
/** A ticket the signed-in user sold: `price` is what the buyer paid. */
export type Sale = Ok<'listSales'>['sales'][number];
export type OrderConfig = Ok<'getOrderConfig'>;

type ServedPaymentConfig = Ok<'getPaymentConfig'>;
/**
 * The document lists `testCards` and `stripePublishableKey` as optional for both providers; the
 * test provider always sends its cards, and only Stripe may send a publishable key.
 */
export type PaymentConfig =
  | { provider: 'test'; testCards: NonNullable<ServedPaymentConfig['testCards']> }
  | { provider: 'stripe'; stripePublishableKey?: ServedPaymentConfig['stripePublishableKey'] };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly items: ErrorItem[],
  ) {
    super(items.map((item) => item.message).join('; ') || `Request failed (${status})`);
    this.name = 'ApiError';
  }
}

/**
 * The API's validation messages are written for developers ("password must NOT have fewer than 8
 * characters"); people get the same facts in plain words. Rule messages ("Email in use") pass as
 * they are.
 */
export function friendlyMessage({ message, field }: ErrorItem): string {
  let text = message;
  if (field && text.startsWith(`${field} `)) {
    // "faceValue" reads as "Face value".
    const words = field.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`);
    const name = words.charAt(0).toUpperCase() + words.slice(1);
    text = `${name} ${text.slice(field.length + 1)}`;
  }
  text = text
    .replace(/must NOT have fewer than (\d+) characters/, 'must be at least $1 characters')
    .replace(/must NOT have more than (\d+) characters/, 'must be at most $1 characters')
    .replace(/must match format "email"/, 'must be a valid email address');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const NETWORK_ERROR = 'Could not reach the marketplace. Check your connection and try again.';

/**
 * Told of every 401. The API answers 401 both when nobody is signed in and when the signed-in user
 * does not own what they asked for, so a listener asks who is signed in before it concludes that
 * the session ended (signed out in another tab, expired).
 */
const unauthorizedListeners = new Set<() => void>();

export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => {
    unauthorizedListeners.delete(listener);
  };
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await send<T>(method, path, body)).json;
}

/** The address of the next page in a `Link` header (RFC 8288), or null on the last page. */
export function nextPageOf(link: string | null): string | null {
  return link?.match(/<([^>]+)>\s*;\s*rel="?next"?/)?.[1] ?? null;
}

async function send<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ json: T; response: Response }> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, [{ message: NETWORK_ERROR }]);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  if (!response.ok) {
    const errors = (json as { errors?: unknown } | undefined)?.errors;
    throw new ApiError(
      response.status,
      Array.isArray(errors) && errors.length > 0
        ? (errors as ErrorItem[])
        : [
            {
              message:
                response.status >= 500
                  ? 'Something went wrong on our side. Please try again.'
                  : `Request failed (${response.status})`,
            },
          ],
    );
  }
  return { json: json as T, response };
}

const enc = encodeURIComponent;

export const api = {
  currentUser: () =>
    request<Ok<'getCurrentUser'>>('GET', '/api/users/currentuser').then((r) => r.currentUser),
  signUp: (credentials: { email: string; password: string }) =>
    request<User>('POST', '/api/users/signup', credentials),
  signIn: (credentials: { email: string; password: string }) =>
    request<User>('POST', '/api/users/signin', credentials),
  signOut: () => request<Record<string, never>>('POST', '/api/users/signout'),
  /** Ends every session of the signed-in user, on every device, this one included. */
  signOutEverywhere: () => request<Record<string, never>>('POST', '/api/users/signout-everywhere'),

  /**
   * The first page of the tickets for sale matching `search`, or the page at `next` (a
   * `TicketPage`'s `next`, which carries the search with it).
   */
  listTickets: async (
    options: { limit?: number; next?: string | null; search?: TicketSearch } = {},
  ): Promise<TicketPage> => {
    const query = new URLSearchParams({ limit: String(options.limit ?? 20) });
    const search: Record<string, string | number | undefined> = { ...options.search };
    for (const [name, value] of Object.entries(search)) {
      if (value !== undefined && value !== '') query.set(name, String(value));
    }
    const path = options.next ?? `/api/tickets?${query.toString()}`;
    const { json, response } = await send<Ticket[]>('GET', path);
    return { tickets: json, next: nextPageOf(response.headers.get('link')) };
  },
  getTicket: (id: string) => request<Ticket>('GET', `/api/tickets/${enc(id)}`),
  createTicket: (input: TicketInput) => request<Ticket>('POST', '/api/tickets', input),
  updateTicket: (id: string, input: TicketInput) => request<Ticket>('PUT', `/api/tickets/${enc(id)}`, input),
  /** Every ticket the signed-in user owns, listed or not, newest first. */
  myTickets: () => request<Ok<'listMyTickets'>>('GET', '/api/tickets/mine').then((r) => r.tickets),
  /** Puts an owned ticket on sale at `price` (at most its `maxPrice`). */
  listTicket: (id: string, price: number) =>
    request<Ticket>('POST', `/api/tickets/${enc(id)}/listing`, { price }),
  /** Takes a listed ticket off sale (refused while an order holds it). */
  withdrawTicket: (id: string) => request<undefined>('DELETE', `/api/tickets/${enc(id)}/listing`),
  /** The door credential, for the ticket's owner only. */
  ticketCredential: (id: string) => request<Credential>('GET', `/api/tickets/${enc(id)}/credential`),
  verifyCredential: (code: string) => request<CredentialCheck>('POST', '/api/tickets/verify', { code }),

  /** `price`: the one the buyer saw; the API refuses another rather than order at it. */
  createOrder: (ticketId: string, price: number) =>
    request<Order>('POST', '/api/orders', { ticketId, price }),
  listOrders: () => request<Order[]>('GET', '/api/orders'),
  /** How long a new order holds its ticket unpaid, in seconds. */
  orderConfig: () => request<OrderConfig>('GET', '/api/orders/config'),
  getOrder: (id: string) => request<Order>('GET', `/api/orders/${enc(id)}`),
  cancelOrder: (id: string) => request<undefined>('DELETE', `/api/orders/${enc(id)}`),
  /** The signed-in user's completed sales, newest first. */
  listSales: () => request<Ok<'listSales'>>('GET', '/api/orders/sales').then((r) => r.sales),

  paymentConfig: () => request<PaymentConfig>('GET', '/api/payments/config'),
  pay: (input: { orderId: string; token: string }) => request<Payment>('POST', '/api/payments', input),
};
