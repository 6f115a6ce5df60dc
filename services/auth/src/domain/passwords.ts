/**
 * Password hashing with scrypt from node:crypto: a memory-hard KDF (guessing costs RAM as well as
 * CPU, which blunts GPU/ASIC cracking) that ships with Node, so no native add-on to build.
 *
 * A hash is stored as `scrypt$N$r$p$saltB64$hashB64`: verification reads the cost parameters from
 * the stored string, so they can be raised later without invalidating existing passwords.
 * Comparison is constant-time (`timingSafeEqual`) so a mismatch reveals nothing of where it is.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
) => Promise<Buffer>;

/** Parameters for new hashes (OWASP's scrypt minimum: N=2^14, r=8, p=1); 16 MiB per hash. */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
const SALT_LENGTH = 16;
const PREFIX = 'scrypt';

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function derive(
  password: string,
  salt: Buffer,
  keylen: number,
  { N, r, p }: { N: number; r: number; p: number },
) {
  // Node refuses to use more than 32 MiB by default; allow twice what these parameters need.
  return scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, KEY_LENGTH, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return [PREFIX, N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

const positiveInteger = (text: string | undefined) =>
  text && /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : NaN;

function parseHash(stored: string): ParsedHash {
  const [prefix, n, r, p, salt, hash, ...rest] = stored.split('$');
  const parsed = {
    N: positiveInteger(n),
    r: positiveInteger(r),
    p: positiveInteger(p),
    salt: Buffer.from(salt ?? '', 'base64'),
    hash: Buffer.from(hash ?? '', 'base64'),
  };
  const powerOfTwo = parsed.N > 1 && Number.isInteger(Math.log2(parsed.N));
  if (
    prefix !== PREFIX ||
    rest.length > 0 ||
    !powerOfTwo ||
    !(parsed.r > 0) ||
    !(parsed.p > 0) ||
    parsed.salt.length === 0 ||
    parsed.hash.length === 0
  ) {
    // A corrupt row is a bug to surface, not a wrong password to shrug off.
    throw new Error('Unrecognised password hash format');
  }
  return parsed;
}

/** True when `password` is the one `stored` was made from. Throws if `stored` is not a hash we made. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { N, r, p, salt, hash } = parseHash(stored);
  const candidate = await derive(password, salt, hash.length, { N, r, p });
  return timingSafeEqual(candidate, hash);
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a random password nobody knows, made with the current parameters. Signing in with an
 * unknown email verifies against it so that the answer takes as long as for a known email with a
 * wrong password: response time must not tell which emails are registered.
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64'));
  return dummy;
}
