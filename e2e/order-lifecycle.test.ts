/** Reserving and releasing a ticket across services, over HTTP, on the one-process marketplace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { startOneProcess, User, type System } from './support.ts';

describe('order lifecycle across services', () => {
  let system: System;
  let seller: User;
  let buyer: User;
  beforeAll(async () => {
    system = await startOneProcess();
    seller = await new User(system.route).signUp();
    buyer = await new User(system.route).signUp();
  });
  afterAll(() => system.stop());

  const listed = async (id: string) => {
    const { body } = await buyer.request<{ id: string }[]>('GET', '/api/tickets?limit=100');
    return body.some((t) => t.id === id);
  };
  const ticketsRow = async (id: string) =>
    (
      await system.query<{ order_id: string | null; version: number }>(
        'tickets',
        'select order_id, version from tickets where id = $1',
        [id],
      )
    )[0]!;
  const replicaVersion = async (id: string) =>
    (await system.query<{ version: number }>('orders', 'select version from tickets where id = $1', [id]))[0]
      ?.version;

  it('locks a ticket while an order holds it, and releases it when the order is cancelled', async () => {
    const { body: ticket } = await seller.request<{ id: string }>('POST', '/api/tickets', {
      title: 'gala',
      price: 42,
    });
    await waitFor(async () => (await replicaVersion(ticket.id)) === 0);

    const { status, body: order } = await buyer.request<{ id: string }>('POST', '/api/orders', {
      ticketId: ticket.id,
    });
    expect(status).toBe(201);
    await waitFor(async () => (await ticketsRow(ticket.id)).order_id === order.id);
    expect(await listed(ticket.id)).toBe(false);

    const edit = await seller.request('PUT', `/api/tickets/${ticket.id}`, { title: 'gala', price: 1 });
    expect(edit).toEqual({ status: 400, body: { errors: [{ message: 'Cannot edit a reserved ticket' }] } });
    const second = await new User(system.route).signUp();
    expect((await second.request('POST', '/api/orders', { ticketId: ticket.id })).status).toBe(400);

    expect((await buyer.request('DELETE', `/api/orders/${order.id}`)).status).toBe(204);
    await waitFor(async () => (await ticketsRow(ticket.id)).order_id === null);
    expect(await listed(ticket.id)).toBe(true);
    // Reserving and releasing were two ticket versions; the replica followed both.
    expect(await ticketsRow(ticket.id)).toEqual({ order_id: null, version: 2 });
    await waitFor(async () => (await replicaVersion(ticket.id)) === 2);
    expect((await second.request('POST', '/api/orders', { ticketId: ticket.id })).status).toBe(201);
  });

  it('serves OpenAPI documentation of every route, from the schemas that validate them', async () => {
    const response = await fetch(`${system.route('/')}/api/docs/json`);
    expect(response.status).toBe(200);
    const spec = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(spec.paths).sort()).toEqual(
      [
        '/api/orders',
        '/api/orders/config',
        '/api/orders/sales',
        '/api/orders/{id}',
        '/api/payments',
        '/api/payments/config',
        '/api/tickets',
        '/api/tickets/mine',
        '/api/tickets/verify',
        '/api/tickets/{id}',
        '/api/tickets/{id}/credential',
        '/api/tickets/{id}/listing',
        '/api/users/currentuser',
        '/api/users/signin',
        '/api/users/signout',
        '/api/users/signout-everywhere',
        '/api/users/signup',
      ].sort(),
    );
    expect(Object.keys(spec.paths['/api/orders']!).sort()).toEqual(['get', 'post']);
    expect(spec.paths['/api/tickets']!.post).toMatchObject({ requestBody: expect.anything() });
    // What the routes answer, not what a schema left out implies.
    const operation = (path: string, method: string) =>
      spec.paths[path]![method] as {
        responses: Record<string, unknown>;
        parameters?: { name: string; required?: boolean }[];
      };
    expect(Object.keys(operation('/api/orders/{id}', 'delete').responses).sort()).toEqual(
      ['204', '400', '401', '403', '404', '413', '414', '415', '429', '500'].sort(),
    );
    const limit = operation('/api/tickets', 'get').parameters?.find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ required: false });
  });

  it('answers health and readiness', async () => {
    expect((await fetch(`${system.route('/')}/healthz`)).status).toBe(200);
    const ready = await fetch(`${system.route('/')}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { bus: true, 'orders-database': true },
    });
  });
});
