/**
 * The credential that gets a ticket's owner in at the door: a code of 32 characters (A–Z, 2–7:
 * base32, easy to read aloud and compact in a QR code) carrying 160 bits.
 *
 * The code is never stored. The tickets table keeps a random seed of 256 bits, from which the
 * code is derived with the deployment's key (HMAC-SHA-256), so that the owner can see it again on
 * any device; and the code's SHA-256, by which a scanned code is verified. Whoever reads the
 * database without the key can neither show nor forge a code.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const CODE_LENGTH = 32;
const CODE_SHAPE = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);

/** RFC 4648 base32 without padding (20 bytes make exactly 32 characters). */
function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return text;
}

export const credentialHash = (code: string): Buffer => createHash('sha256').update(code).digest();

/** The code of `ticketId`'s credential seeded with `seed`, under the deployment's `key`. */
export function credentialCode(key: string, ticketId: string, seed: Buffer): string {
  const mac = createHmac('sha256', key).update(`ticket-credential\0${ticketId}\0`).update(seed).digest();
  return base32(mac.subarray(0, 20));
}

/** A fresh credential for `ticketId`: what to store (seed, hash) and the code it gives. */
export function newCredential(key: string, ticketId: string) {
  const seed = randomBytes(32);
  const code = credentialCode(key, ticketId, seed);
  return { seed, hash: credentialHash(code), code };
}

/**
 * A code as someone typed or scanned it, in its one spelling: spaces and dashes dropped, upper
 * case. Undefined when it cannot be a code at all.
 */
export function normaliseCode(text: string): string | undefined {
  const code = text.replace(/[\s-]/g, '').toUpperCase();
  return CODE_SHAPE.test(code) ? code : undefined;
}
