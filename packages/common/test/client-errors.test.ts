/** A request the server cannot parse is answered in the API's error shape, and the connection closed. */
import net from 'node:net';
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
});
