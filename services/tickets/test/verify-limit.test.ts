/**
 * The door's credential check is limited per client address; and which address a request comes
 * from is the socket's unless a proxy is trusted (`TRUST_PROXY`), whose `X-Forwarded-For` then
 * names the client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import { trustProxyOf, type TrustProxy } from '@ticketing/common';
import { ticketsService } from '../src/service.ts';

const harnesses: ServiceHarness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

async function startTickets(max: number, trustProxy?: TrustProxy): Promise<ServiceHarness> {
  const harness = await createServiceHarness(
    ticketsService({ verifyPerAddress: { max, windowSeconds: 60 } }),
    { server: () => ({ trustProxy }) },
  );
  harnesses.push(harness);
  return harness;
}

const verify = (t: ServiceHarness, options: { address?: string; forwardedFor?: string } = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/api/tickets/verify',
    payload: { code: 'A'.repeat(32) },
    remoteAddress: options.address ?? '127.0.0.1',
    headers: options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {},
  });

describe('POST /api/tickets/verify per address', () => {
  it('answers 429 with Retry-After and the error body past the limit; other addresses go on', async () => {
    const t = await startTickets(3);
    for (let i = 0; i < 3; i++) {
      const response = await verify(t, { address: '192.0.2.1' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ valid: false });
    }
    const refused = await verify(t, { address: '192.0.2.1' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      errors: [
        {
          message: expect.stringMatching(
            /^Too many credential checks from this address; try again in \d+ seconds?$/,
          ),
        },
      ],
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await verify(t, { address: '192.0.2.2' })).statusCode).toBe(200);
  });
});

describe('the client address behind a proxy', () => {
  it('ignores X-Forwarded-For unless the proxy is trusted: one socket, one count', async () => {
    const t = await startTickets(2);
    expect((await verify(t, { forwardedFor: '198.51.100.1' })).statusCode).toBe(200);
    expect((await verify(t, { forwardedFor: '198.51.100.2' })).statusCode).toBe(200);
    expect((await verify(t, { forwardedFor: '198.51.100.3' })).statusCode).toBe(429);
  });

  it('takes the address a trusted proxy wrote, and not the ones the client wrote before it', async () => {
    const t = await startTickets(2, trustProxyOf('1'));
    // Two clients behind the proxy (127.0.0.1), each counted on its own.
    for (let i = 0; i < 2; i++)
      expect((await verify(t, { forwardedFor: '198.51.100.1' })).statusCode).toBe(200);
    expect((await verify(t, { forwardedFor: '198.51.100.1' })).statusCode).toBe(429);
    expect((await verify(t, { forwardedFor: '198.51.100.2' })).statusCode).toBe(200);
    // A client that writes X-Forwarded-For itself: the proxy appends the address it saw, which counts.
    expect((await verify(t, { forwardedFor: '10.9.9.9, 198.51.100.1' })).statusCode).toBe(429);
  });

  it('trusts a proxy by its address too, and only that one', async () => {
    const t = await startTickets(1, trustProxyOf('127.0.0.1'));
    expect((await verify(t, { forwardedFor: '198.51.100.1' })).statusCode).toBe(200);
    expect((await verify(t, { forwardedFor: '198.51.100.2' })).statusCode).toBe(200);
    // Not from the trusted proxy: its X-Forwarded-For is the client's own word, ignored.
    expect((await verify(t, { address: '203.0.113.1', forwardedFor: '198.51.100.3' })).statusCode).toBe(200);
    expect((await verify(t, { address: '203.0.113.1', forwardedFor: '198.51.100.4' })).statusCode).toBe(429);
  });

  it('reads TRUST_PROXY as none, a number of hops or addresses, and refuses true', () => {
    expect(trustProxyOf(undefined)).toBe(false);
    expect(trustProxyOf('false')).toBe(false);
    expect(trustProxyOf('10.0.0.0/8, 127.0.0.1,loopback')).toBe('10.0.0.0/8,127.0.0.1,loopback');
    const hops = trustProxyOf('2') as (address: string, hop: number) => boolean;
    expect([hops('x', 0), hops('x', 1), hops('x', 2)]).toEqual([true, true, false]);
    expect(() => trustProxyOf('true')).toThrow(/TRUST_PROXY.*any client can write/);
    expect(() => trustProxyOf('10.0.0.0/99')).toThrow(/TRUST_PROXY/);
  });
});
