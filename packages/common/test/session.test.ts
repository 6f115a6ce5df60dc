import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSessionIssuer } from '../src/http/session.ts';

const jwtKey = 'session-test-key-that-is-long-enough-012345';
const issuer = createSessionIssuer({ jwtKey, secureCookies: false });
const user = { id: randomUUID(), email: 'buyer@example.test' };

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token signed by hand, to try what the issuer would never produce. */
function handMade(header: object, claims: object, key = jwtKey): string {
  const body = `${base64url(header)}.${base64url(claims)}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

describe('sessions', () => {
  it('verifies what it signs, for a week', async () => {
    const token = await issuer.sign(user);
    expect(await issuer.verify(token)).toEqual(user);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      iat: number;
      exp: number;
    };
    expect(claims.exp - claims.iat).toBe(7 * 24 * 3600);
  });

  it.each([
    ['expired', handMade({ alg: 'HS256', typ: 'JWT' }, { sub: user.id, email: user.email, exp: now() - 1 })],
    [
      'signed with another key',
      handMade({ alg: 'HS256' }, { sub: user.id, email: user.email }, 'another-key'),
    ],
    [
      'unsigned (alg none)',
      `${base64url({ alg: 'none' })}.${base64url({ sub: user.id, email: user.email })}.`,
    ],
    [
      'for a subject that is not a uuid',
      handMade({ alg: 'HS256' }, { sub: 'admin', email: user.email, exp: now() + 60 }),
    ],
    ['without an email', handMade({ alg: 'HS256' }, { sub: user.id, exp: now() + 60 })],
    ['without an expiry', handMade({ alg: 'HS256' }, { sub: user.id, email: user.email })],
    [
      'issued more than a week ago',
      handMade(
        { alg: 'HS256' },
        { sub: user.id, email: user.email, iat: now() - 8 * 24 * 3600, exp: now() + 60 },
      ),
    ],
  ])('refuses a token %s', async (_case, token) => {
    expect(await issuer.verify(token)).toBeNull();
  });

  it('accepts a token of the same key and shape from another issuer (auth signs, every service verifies)', async () => {
    const token = handMade(
      { alg: 'HS256', typ: 'JWT' },
      { sub: user.id, email: user.email, exp: now() + 60 },
    );
    expect(await issuer.verify(token)).toEqual(user);
  });
});
