/**
 * A request the server cannot parse, or whose text Postgres could not hold, is answered in the
 * API's error shape (and, when it cannot be parsed, the connection closed).
 */
import net from 'node:net';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer, type HttpApp } from '../src/http/server.ts';
import { sendRawHttp, silentLogger } from '../src/testing/index.ts';

describe("a service's answer to requests it cannot parse", () => {
  let app: HttpApp;
  let port: number;
  beforeAll(async () => {
    app = await buildHttpServer({
      logger: silentLogger,
      jwtKey: 'client-errors-test-key-0123456789-0123456789',
      secureCookies: false,
      title: 'test',
      readiness: {},
    });
    app.post(
      '/api/things/:id',
      {
        schema: {
          params: Type.Object({ id: Type.String() }),
          querystring: Type.Object({ q: Type.Optional(Type.String()) }),
          body: Type.Object({
            title: Type.String(),
            tags: Type.Optional(Type.Array(Type.Unknown())),
            password: Type.Optional(Type.String()),
          }),
        },
      },
      async () => ({ ok: true }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => app.close());

  const raw = (request: string) => sendRawHttp(port, request);

  it('answers a malformed request line with 400', async () => {
    const { status, head, body } = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(status).toBe(400);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body)).toEqual({ errors: [{ message: 'Malformed HTTP request' }] });
  });

  it('answers headers over the limit with 431', async () => {
    const request = `GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: session=${'a'.repeat(20_000)}\r\n\r\n`;
    const { status, body } = await raw(request);
    expect(status).toBe(431);
    expect(JSON.parse(body)).toEqual({ errors: [{ message: 'Request headers are too large' }] });
  });

  it('answers a URL it cannot decode with 400', async () => {
    const { status, body } = await raw(
      'GET /api/tickets/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(status).toBe(400);
    expect(JSON.parse(body)).toEqual({ errors: [{ message: 'The URL is malformed' }] });
  });

  it('refuses U+0000 in a body, a query or a path with 400 naming the field', async () => {
    const post = (url: string, body: unknown) =>
      app.inject({ method: 'POST', url, payload: body as Record<string, unknown> });
    const refused = async (url: string, body: unknown, field: string) => {
      const response = await post(url, body);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        errors: [{ message: `${field} must not contain the character U+0000`, field }],
      });
    };
    await refused('/api/things/1', { title: 'a\u0000b' }, 'title');
    await refused('/api/things/1', { title: 'a', tags: ['x', '\u0000'] }, 'tags.1');
    await refused('/api/things/1?q=%00', { title: 'a' }, 'q');
    await refused('/api/things/%00', { title: 'a' }, 'id');
    await refused('/api/things/1', { title: 'a', ['k\u0000']: 1 }, 'k\u0000');
    expect((await post('/api/things/1?q=x', { title: 'a', tags: ['b'] })).json()).toEqual({ ok: true });
  });

  it('lets a password hold U+0000 (it is hashed, never stored as text)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/things/1',
      payload: { title: 'a', password: 'p\u0000ss' },
    });
    expect(response.json()).toEqual({ ok: true });
  });

  it('walks a body nested thousands deep without overflowing: a 400, never a 500', async () => {
    const deep = '['.repeat(30_000) + '"\\u0000"' + ']'.repeat(30_000);
    const response = await app.inject({
      method: 'POST',
      url: '/api/things/1',
      headers: { 'content-type': 'application/json' },
      payload: `{"title":"a","tags":${deep}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toMatch(/^tags\.0\.0/);
  });
});
