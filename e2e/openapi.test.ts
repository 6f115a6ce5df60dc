/**
 * The OpenAPI document of the running marketplace: the one `npm run lint:openapi` lints; the
 * statuses it lists for every operation are answered, in the error body; its security is what the
 * routes do; and the contract the other e2e tests hold responses to does fail a response the
 * document does not allow.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marketplaceOpenApiDocument } from '@ticketing/marketplace/openapi';
import { checkedFetch, startOneProcess, User, type System } from './support.ts';
import { ContractViolation, OpenApiContract, type Exchange } from './openapi-contract.ts';

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}
type Paths = Record<string, Record<string, Operation>>;

describe('the OpenAPI document of the marketplace', () => {
  let system: System & { marketplace: { url: string } };
  let served: { paths: Paths; components: { schemas: Record<string, unknown> } };
  let contract: OpenApiContract;
  const operations = () =>
    Object.entries(served.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
  /** A URL of the path, its parameters filled (every one is an id). */
  const urlOf = (path: string) => system.marketplace.url + path.replace(/\{[^}]+\}/g, randomUUID());

  beforeAll(async () => {
    system = await startOneProcess();
    served = (await (await fetch(`${system.marketplace.url}/api/docs/json`)).json()) as typeof served;
    contract = await OpenApiContract.of(served);
  });
  afterAll(() => system.stop());

  it('is the document npm run lint:openapi lints', async () => {
    expect(await marketplaceOpenApiDocument()).toEqual(served);
  });

  it('names its operations and components, and lists a 4xx for each operation', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(served.components.schemas).sort()).toEqual(
      ['Error', 'Order', 'Payment', 'Ticket', 'User'].sort(),
    );
    for (const { operation } of operations()) {
      expect(Object.keys(operation.responses), operation.operationId).toEqual(
        expect.arrayContaining(['400', '500']),
      );
    }
  });

  it('answers the statuses every operation lists whatever its route, in the error body', async () => {
    // checkedFetch fails the test if a status is not listed, or its body is not the Error schema.
    for (const { path, method, operation } of operations()) {
      const url = urlOf(path);
      const nul = await checkedFetch(`${url}?q=%00`, { method: method.toUpperCase() });
      expect(nul.status, `${operation.operationId}: U+0000 in the query`).toBe(400);
      if (path.includes('{')) {
        const malformed = system.marketplace.url + path.replace(/\{[^}]+\}/g, '%E0%A4%A');
        const answer = await checkedFetch(malformed, { method: method.toUpperCase() });
        expect(answer.status, `${operation.operationId}: a URL that cannot be decoded`).toBe(400);
        const long = system.marketplace.url + path.replace(/\{[^}]+\}/g, 'a'.repeat(101));
        const tooLong = await checkedFetch(long, { method: method.toUpperCase() });
        expect(tooLong.status, `${operation.operationId}: a path parameter over 100 characters`).toBe(414);
      }
      if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
      const send = (body: string, contentType: string) =>
        checkedFetch(url, { method: method.toUpperCase(), headers: { 'content-type': contentType }, body });
      expect((await send('{"a":', 'application/json')).status, operation.operationId).toBe(400);
      expect((await send(`"${'x'.repeat(70_000)}"`, 'application/json')).status).toBe(413);
      expect((await send('<a/>', 'application/xml')).status, operation.operationId).toBe(415);
    }
  });

  it('says which operations need a session, and they answer 401 without one', async () => {
    const ticketBody = { title: 'gala', price: 10 };
    // A valid request for each: without a session, only the missing session is wrong with it.
    const validBodies: Record<string, unknown> = {
      createTicket: ticketBody,
      updateTicket: ticketBody,
      createOrder: { ticketId: randomUUID() },
      listOrders: undefined,
      getOrder: undefined,
      cancelOrder: undefined,
      createPayment: { orderId: randomUUID(), token: 'tok_visa' },
      listMyTickets: undefined,
      listTicket: { price: 10 },
      withdrawTicket: undefined,
      getTicketCredential: undefined,
      listSales: undefined,
      signOutEverywhere: undefined,
    };
    // Needs one: some requirement, none of them empty (`{}`: without a session).
    const needSession = operations().filter(
      ({ operation: { security = [] } }) =>
        security.length > 0 && security.every((requirement) => Object.keys(requirement).length > 0),
    );
    expect(needSession.map(({ operation }) => operation.operationId).sort()).toEqual(
      Object.keys(validBodies).sort(),
    );
    const anonymous = new User(() => system.marketplace.url);
    for (const { path, method, operation } of needSession) {
      const url = urlOf(path).slice(system.marketplace.url.length);
      const answer = await anonymous.request(method.toUpperCase(), url, validBodies[operation.operationId]);
      expect(answer, operation.operationId).toEqual({
        status: 401,
        body: { errors: [{ message: 'Not authorized' }] },
      });
    }
    // The rest need none: anonymous requests to them are not refused for want of a session.
    const publicOperations = operations().filter(
      ({ operation }) => !needSession.some((n) => n.operation === operation),
    );
    expect(
      publicOperations.map(({ operation }) => [operation.operationId, operation.security]).sort(),
    ).toEqual(
      [
        ['getCurrentUser', [{}, { session: [] }]],
        ['getOrderConfig', []],
        ['getPaymentConfig', []],
        ['getTicket', [{}, { session: [] }]],
        ['listTickets', []],
        ['verifyTicketCredential', []],
        ['signIn', []],
        ['signOut', [{}, { session: [] }]],
        ['signUp', []],
      ].sort(),
    );
    expect((await anonymous.request('GET', '/api/users/currentuser')).body).toEqual({ currentUser: null });
    expect((await anonymous.request('POST', '/api/users/signout')).status).toBe(200);
  });

  describe('as a contract, fails a response the document does not allow', () => {
    const ticket = {
      id: randomUUID(),
      title: 'gala',
      price: 35.5,
      faceValue: 35.5,
      maxPrice: 35.5,
      userId: randomUUID(),
      listed: true,
      timesSold: 0,
      version: 0,
      createdAt: new Date().toISOString(),
    };
    const exchange = (overrides: Partial<Exchange>): Exchange => ({
      method: 'GET',
      url: `${system.marketplace.url}/api/tickets/${ticket.id}`,
      status: 200,
      contentType: 'application/json; charset=utf-8',
      text: JSON.stringify(ticket),
      ...overrides,
    });
    const violation = (overrides: Partial<Exchange>) => {
      try {
        contract.check(exchange(overrides));
      } catch (error) {
        if (error instanceof ContractViolation) return error.message;
        throw error;
      }
      return undefined;
    };

    it('passes a response the document allows', () => {
      expect(violation({})).toBeUndefined();
      expect(violation({ status: 404, text: '{"errors":[{"message":"Ticket not found"}]}' })).toBeUndefined();
      expect(
        violation({
          method: 'DELETE',
          url: `${system.marketplace.url}/api/orders/${ticket.id}`,
          status: 204,
          contentType: null,
          text: '',
        }),
      ).toBeUndefined();
    });

    it('fails a status the operation does not list', () => {
      expect(violation({ status: 418, text: '{"errors":[{"message":"teapot"}]}' })).toMatch(
        /getTicket \(GET \/api\/tickets\/.*\) answered 418, which the document does not list/,
      );
      expect(violation({ status: 401, text: '{"errors":[{"message":"Not authorized"}]}' })).toMatch(
        /answered 401/,
      );
      expect(
        violation({
          method: 'DELETE',
          url: `${system.marketplace.url}/api/orders/${ticket.id}`,
          status: 200,
          text: '{}',
        }),
      ).toMatch(/cancelOrder .* answered 200, which the document does not list/);
    });

    it('fails a body its schema does not allow', () => {
      const { title: _title, ...untitled } = ticket;
      expect(violation({ text: JSON.stringify(untitled) })).toMatch(/does not allow.*title/);
      expect(violation({ text: JSON.stringify({ ...ticket, price: '35.5' }) })).toMatch(
        /does not allow.*price/,
      );
      expect(violation({ text: JSON.stringify({ ...ticket, price: 35.555 }) })).toMatch(/multipleOf/);
      expect(violation({ text: JSON.stringify({ ...ticket, id: 'urn:uuid:' + ticket.id }) })).toMatch(
        /format/,
      );
      // A field the document does not name is drift too.
      expect(violation({ text: JSON.stringify({ ...ticket, secret: 1 }) })).toMatch(/additionalProperties/);
      expect(violation({ status: 404, text: '{"error":"Not Found"}' })).toMatch(/does not allow/);
    });

    it('fails a body where none is listed, and one that is not JSON where JSON is', () => {
      const cancel = {
        method: 'DELETE',
        url: `${system.marketplace.url}/api/orders/${ticket.id}`,
        status: 204,
      };
      expect(violation({ ...cancel, text: '{}' })).toMatch(
        /with a body, which the document lists without one/,
      );
      expect(violation({ contentType: 'text/html', text: '<p>gala</p>' })).toMatch(/as text\/html/);
    });

    it('fails an API route the document does not have, unless it is the 404 for it', () => {
      const unknown = { url: `${system.marketplace.url}/api/tickets/${ticket.id}/history` };
      expect(violation({ ...unknown, status: 200 })).toMatch(
        /matches no operation of the document, yet answered 200/,
      );
      expect(
        violation({ ...unknown, status: 404, text: '{"errors":[{"message":"Not found"}]}' }),
      ).toBeUndefined();
      // Outside the API, nothing is looked at: the web client, the probes, the document.
      expect(
        violation({
          url: `${system.marketplace.url}/orders/1`,
          status: 200,
          contentType: 'text/html',
          text: '<html>',
        }),
      ).toBeUndefined();
      expect(
        violation({ url: `${system.marketplace.url}/healthz`, text: '{"status":"ok"}' }),
      ).toBeUndefined();
    });
  });
});
