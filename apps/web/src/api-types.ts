/**
 * Generated from the marketplace's OpenAPI document by `npm run generate:api-types`
 * (scripts/api-types.ts): do not edit. The web client names these types in src/api.ts.
 */

export interface paths {
  '/api/users/signup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create an account and sign in to it
     * @description Sets the session cookie, and the device cookie (see sign-in). 400 "Email in use" when the email already has an account. 429 once the address has signed up too often.
     */
    post: operations['signUp'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/users/signin': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Sign in with email and password
     * @description Sets the session cookie, and the `device` cookie: a browser that sends it back for the same account is exempt from the account's backoff, so guesses from elsewhere cannot keep it out. 400 "Invalid credentials" for an unknown email or a wrong password alike. 429 once the address has tried too often, or the account (or, with a device cookie, the device): a few attempts are free, then each makes the next wait longer (1 s, doubling, up to a cap); a success starts again.
     */
    post: operations['signIn'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/users/signout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Sign out: end this session and clear its cookie
     * @description Works with or without a session. A valid session is revoked: every service refuses its token from then on (within a second), wherever a copy of the cookie is.
     */
    post: operations['signOut'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/users/signout-everywhere': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Sign out everywhere: end every session of the signed-in user
     * @description Ends this session and every other one of the user, on every device, begun until now: every service refuses their tokens from then on (within a second). Clears this cookie.
     */
    post: operations['signOutEverywhere'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/users/currentuser': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The signed-in user, or null
     * @description Never 401: a missing, expired or tampered session cookie simply gives null.
     */
    get: operations['getCurrentUser'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tickets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Search the tickets for sale
     * @description Listed tickets that no order holds and whose event has not started, matching every filter given, in the order asked. A JSON array; the next page is in the `Link` header.
     */
    get: operations['listTickets'];
    put?: never;
    /** List a ticket for sale */
    post: operations['createTicket'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tickets/mine': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Every ticket the signed-in user owns
     * @description Listed, held by an order, or not listed; the most recently acquired first.
     */
    get: operations['listMyTickets'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tickets/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * One ticket
     * @description A ticket for sale or held by an order, to anyone; one that is not listed, only to its owner.
     */
    get: operations['getTicket'];
    /**
     * Edit one's own ticket while no order holds it
     * @description Title, price and face value, and the event's venue, city and start. Once the ticket has been sold, the event (title, venue, city, start) and the face value are fixed; the price is at most `maxPrice`. Refused once the event has started.
     */
    put: operations['updateTicket'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tickets/{id}/listing': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Put a ticket one owns up for sale
     * @description At `price`, at most its `maxPrice` (its face value plus the markup the marketplace allows). Listing a ticket already listed sets its price.
     */
    post: operations['listTicket'];
    /**
     * Take a ticket one owns off sale
     * @description Refused while an order holds it. Withdrawing a ticket that is not listed changes nothing.
     */
    delete: operations['withdrawTicket'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tickets/{id}/credential': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The owner's credential for getting in
     * @description What the door scans (for example as a QR code). Only the current owner gets it.
     */
    get: operations['getTicketCredential'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/tickets/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Check a credential at the door
     * @description Whether `code` is the credential of a ticket's current owner. Spaces, dashes and lower case are forgiven. The answer has the same shape for every code that is not valid, whatever is wrong with it.
     */
    post: operations['verifyTicketCredential'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders/config': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** How long an unpaid order holds its ticket */
    get: operations['getOrderConfig'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signed-in user's orders, newest first */
    get: operations['listOrders'];
    put?: never;
    /** Reserve a ticket: creates an order (status created) that the tickets service confirms (awaiting:payment) or rejects, and that expires unless paid */
    post: operations['createOrder'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders/sales': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signed-in user's completed sales, the most recent first */
    get: operations['listSales'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/orders/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One of your orders */
    get: operations['getOrder'];
    put?: never;
    post?: never;
    /** Cancel one of your orders (releases its ticket) */
    delete: operations['cancelOrder'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/payments': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Pay for one of your orders awaiting payment; charges the order's price */
    post: operations['createPayment'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/payments/config': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Which payment provider is active */
    get: operations['getPaymentConfig'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @description The body of every error response. */
    Error: {
      errors: {
        message: string;
        /** @description The input the message is about, as the client sent it: `price`, `ticketId`, `cursor` */
        field?: string;
      }[];
    };
    User: {
      /** Format: uuid */
      id: string;
      /**
       * Format: email
       * @description Lower-cased when signing up.
       */
      email: string;
    };
    Ticket: {
      /** Format: uuid */
      id: string;
      title: string;
      /** @description The asking price, in currency units. */
      price: number;
      /** @description The price printed on the ticket, in currency units; fixed once it has been sold. */
      faceValue: number;
      /** @description The highest price it may be listed at: its face value plus the markup the marketplace allows. */
      maxPrice: number;
      /**
       * Format: uuid
       * @description The owner: the seller who listed it, then each buyer.
       */
      userId: string;
      /** @description For sale. Only its owner sees a ticket that is not listed. */
      listed: boolean;
      /** @description How many times it changed hands. */
      timesSold: number;
      /** @description Bumped by every change, reservations included. */
      version: number;
      /**
       * Format: uuid
       * @description The order holding the ticket; absent when none does.
       */
      orderId?: string;
      /** @description Where the event is. */
      venue?: string;
      /** @description The city it is in. */
      city?: string;
      /**
       * Format: date-time
       * @description When the event starts; its listing ends then. Absent when the seller did not say.
       */
      startsAt?: string;
      /** Format: date-time */
      createdAt: string;
    };
    Order: {
      /** Format: uuid */
      id: string;
      /** @enum {unknown} */
      status: 'created' | 'cancelled' | 'awaiting:payment' | 'complete';
      /**
       * Format: uuid
       * @description The buyer.
       */
      userId: string;
      /**
       * Format: date-time
       * @description When it was placed.
       */
      createdAt: string;
      /**
       * Format: date-time
       * @description When it is cancelled unless paid.
       */
      expiresAt: string;
      /**
       * Format: date-time
       * @description For a complete order: when its payment completed it.
       */
      completedAt?: string;
      /**
       * @description For a cancelled order: its buyer cancelled it, it expired unpaid, or the tickets service rejected it (the ticket changed before the reservation reached it)
       * @enum {unknown}
       */
      cancelledBy?: 'buyer' | 'expiry' | 'rejected';
      /** @description For a rejected order: why, in words for its buyer. */
      cancelReason?: string;
      version: number;
      ticket: {
        /** Format: uuid */
        id: string;
        title: string;
        /** @description What the order costs: the price when it was placed, in currency units. */
        price: number;
      };
    };
    Payment: {
      /** Format: uuid */
      id: string;
      /** Format: uuid */
      orderId: string;
      /** @description What was charged, in the currency unit: the order's price. */
      amount: number;
      /** @description ISO 4217 code, lower case (usd). */
      currency: string;
      /** @enum {string} */
      status: 'succeeded';
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  signUp: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /**
           * Format: email
           * @description Case-insensitive.
           */
          email: string;
          /** @description Not one of the 50,000 most common passwords (compared in lower case). */
          password: string;
        };
      };
    };
    responses: {
      /** @description Signed up and in: the session and device cookies are set */
      201: {
        headers: {
          /** @description The `session` cookie (httpOnly, SameSite=Lax, Path=/; Secure in production), and the `device` cookie (httpOnly, SameSite=Strict, Path=/api/users/signin; Secure in production): signed, it says this browser signed in to this account, and sign-ins to the account that send it are exempt from its backoff. */
          'set-cookie'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['User'];
        };
      };
      /** @description "Email in use" (field `email`), an invalid email or password (the field named), or a password too common to allow (field `password`) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many sign-ups from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  signIn: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /**
           * Format: email
           * @description Case-insensitive.
           */
          email: string;
          password: string;
        };
      };
    };
    responses: {
      /** @description Signed in: the session and device cookies are set */
      200: {
        headers: {
          /** @description The `session` cookie (httpOnly, SameSite=Lax, Path=/; Secure in production), and the `device` cookie (httpOnly, SameSite=Strict, Path=/api/users/signin; Secure in production): signed, it says this browser signed in to this account, and sign-ins to the account that send it are exempt from its backoff. */
          'set-cookie'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['User'];
        };
      };
      /** @description "Invalid credentials" (an unknown email or a wrong password, alike), or an invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many attempts from this address, for this account, or from this device: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  signOut: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Signed out: the session is ended and its cookie cleared */
      200: {
        headers: {
          /** @description The `session` cookie (httpOnly, SameSite=Lax, Path=/; Secure in production). */
          'set-cookie'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, never>;
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  signOutEverywhere: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every session ended, and this cookie cleared */
      200: {
        headers: {
          /** @description The `session` cookie (httpOnly, SameSite=Lax, Path=/; Secure in production). */
          'set-cookie'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, never>;
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getCurrentUser: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The user the session cookie names, or null */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            currentUser: components['schemas']['User'] | null;
          };
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listTickets: {
    parameters: {
      query?: {
        /** @description Words in the title or venue, in any order, case and accents aside; each matches the start of a word ("oly" finds "Olympia"). */
        q?: string;
        /** @description The city, case and accents aside. */
        city?: string;
        /** @description Events starting at or after. */
        from?: string;
        /** @description Events starting at or before. */
        to?: string;
        /** @description The lowest price, in currency units. */
        minPrice?: number;
        /** @description The highest price, in currency units. */
        maxPrice?: number;
        /** @description `newest` listed first (the default), `price` cheapest first, `startsAt` soonest first (tickets without a date last). */
        sort?: 'newest' | 'price' | 'startsAt';
        limit?: number;
        /** @description From the `Link` header of the previous page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of tickets for sale */
      200: {
        headers: {
          /** @description The next page, as `<url>; rel="next"` (RFC 8288): the same filters and a cursor. Absent on the last page. */
          Link?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Ticket'][];
        };
      };
      /** @description An unknown parameter; a parameter out of its range (`limit` 1 to 100, prices 0 to 1000000); `to` before `from`, `maxPrice` below `minPrice`; more than 8 words; a `cursor` this API did not give, or one of another sort (the field named) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createTicket: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description Stored trimmed; one of whitespace only is refused. Fixed once the ticket has been sold. */
          title: string;
          price: number | string;
          faceValue?: number | string;
          /** @description Where the event is. */
          venue?: string;
          /** @description The city it is in. */
          city?: string;
          /**
           * Format: date-time
           * @description When the event starts, in the future. On an edit, each of `venue`, `city` and `startsAt` left out stays as it is; all three are fixed once the ticket has been sold.
           */
          startsAt?: string;
        };
      };
    };
    responses: {
      /** @description The ticket, listed; `ticket:created` is published */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Ticket'];
        };
      };
      /** @description An invalid title, price, face value, venue, city or start (one not in the future), or a price above the cap (the field named) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listMyTickets: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The tickets */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            tickets: components['schemas']['Ticket'][];
          };
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getTicket: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The ticket */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Ticket'];
        };
      };
      /** @description The id is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No ticket has this id, or it is not listed and not yours */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  updateTicket: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** @description Stored trimmed; one of whitespace only is refused. Fixed once the ticket has been sold. */
          title: string;
          price: number | string;
          faceValue?: number | string;
          /** @description Where the event is. */
          venue?: string;
          /** @description The city it is in. */
          city?: string;
          /**
           * Format: date-time
           * @description When the event starts, in the future. On an edit, each of `venue`, `city` and `startsAt` left out stays as it is; all three are fixed once the ticket has been sold.
           */
          startsAt?: string;
        };
      };
    };
    responses: {
      /** @description The ticket, edited; `ticket:updated` is published */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Ticket'];
        };
      };
      /** @description "Cannot edit a reserved ticket", "This event has already started"; an invalid title, price, face value, venue, city or start, a price above the cap, or the event or face value changed after a sale (the field named); or an id that is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the owner of the ticket */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No ticket has this id */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listTicket: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          price: number | string;
        };
      };
    };
    responses: {
      /** @description The ticket, listed; `ticket:updated` is published when it changed */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Ticket'];
        };
      };
      /** @description A price that is invalid or above the cap (field `price`, with the cap), an order holds the ticket, its event has started, or an id that is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the owner of the ticket */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No ticket has this id */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  withdrawTicket: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Not listed; `ticket:updated` is published when it was */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description An order holds the ticket, or the id is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the owner of the ticket */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No ticket has this id */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getTicketCredential: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The credential */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description 32 characters of A–Z and 2–7. A new one is issued whenever the ticket changes hands; the previous owner's stops verifying then. */
            code: string;
          };
        };
      };
      /** @description The id is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the owner of the ticket */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No ticket has this id */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  verifyTicketCredential: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          code: string;
        };
      };
    };
    responses: {
      /** @description `valid`, and for a valid code its ticket */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            | {
                /** @enum {boolean} */
                valid: true;
                /** Format: uuid */
                ticketId: string;
                title: string;
              }
            | {
                /** @enum {boolean} */
                valid: false;
              };
        };
      };
      /** @description No `code`, or one longer than 200 characters */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many checks from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getOrderConfig: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The reservation window */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @description How long a new order holds its ticket unpaid, in seconds, before it is cancelled */
            expirationSeconds: number;
          };
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listOrders: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every order of the user, with its ticket */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Order'][];
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createOrder: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** Format: uuid */
          ticketId: string;
          /** @description The price the buyer saw (currency units). When given, an order is placed only at this price: another is refused with 400 (field price). */
          price?: number;
        };
      };
    };
    responses: {
      /** @description The order (`created`), priced from the replica of the ticket; `order:created` is published, and the tickets service confirms it (`awaiting:payment`) or rejects it within milliseconds */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Order'];
        };
      };
      /** @description "Ticket is already reserved", "You cannot order your own ticket", "This event has already started", an invalid ticketId, or (field price) a price that is not the ticket's: "The price of this ticket changed from 10.00 to 55.00; check it and order again" */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No ticket has this id (a ticket listed a moment ago may not have reached orders yet) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listSales: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Every ticket the user sold */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            sales: {
              /**
               * Format: uuid
               * @description The buyer's order.
               */
              orderId: string;
              ticket: {
                /** Format: uuid */
                id: string;
                title: string;
              };
              /** @description What it sold for, in currency units. */
              price: number;
              /**
               * Format: date-time
               * @description When the buyer paid.
               */
              soldAt: string;
            }[];
          };
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getOrder: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The order, with its ticket */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Order'];
        };
      };
      /** @description The id is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the buyer of the order */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No order has this id */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  cancelOrder: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Cancelled, now or before; `order:cancelled` is published the first time */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description "Cannot cancel a completed order", or an id that is not a UUID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the buyer of the order */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No order has this id */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A path parameter is over 100 characters */
      414: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createPayment: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** Format: uuid */
          orderId: string;
          /** @description Test provider: tok_visa (succeeds) or tok_chargeDeclined. Stripe: a payment method id (pm_...). */
          token: string;
        };
      };
    };
    responses: {
      /** @description Paid: the order's price was charged and the order completes; `payment:created` is published */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Payment'];
        };
      };
      /** @description The card was declined (field `token`), the reservation is not confirmed yet (field `orderId`, after waiting up to 3 s), or the order is cancelled, expired, paid or being paid, or an invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Not signed in, or not the buyer of the order */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Sent by a page of another site (its `Origin`, or `Sec-Fetch-Site: cross-site`): refused before it is read */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No order has this id (one placed a moment ago is waited for, up to 3 s) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is over 64 KiB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body is of a content type the server does not read (send application/json) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The payment provider is unavailable; nothing was charged yet, try again shortly */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getPaymentConfig: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The provider, and what the client needs to take a card with it */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            provider: 'test' | 'stripe';
            /** @description With Stripe, when a publishable key is configured */
            stripePublishableKey?: string;
            /** @description With the test provider: the tokens of its two cards */
            testCards?: {
              success: string;
              declined: string;
            };
          };
        };
      };
      /** @description Invalid request: the body, the query or a path parameter breaks the schema (the error names the field), or the JSON or the URL is malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many requests from this address: wait `Retry-After` seconds */
      429: {
        headers: {
          /** @description Seconds to wait before trying again. */
          'retry-after'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Something went wrong on the server (it is logged) */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
}
