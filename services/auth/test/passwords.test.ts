import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, SCRYPT_PARAMS, verifyPassword } from '../src/domain/passwords.ts';

describe('passwords', () => {
  it('hashes as scrypt$N$r$p$salt$hash with a 16-byte salt and a 64-byte key', async () => {
    const stored = await hashPassword('hunter2 hunter2');
    const [prefix, n, r, p, salt, hash] = stored.split('$');
    expect([prefix, Number(n), Number(r), Number(p)]).toEqual(['scrypt', 16384, 8, 1]);
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(Buffer.from(hash!, 'base64')).toHaveLength(64);
    expect(stored).not.toContain('hunter2');
  });

  it('salts every hash, so the same password never hashes the same twice', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('right password');
    expect(await verifyPassword('right password', stored)).toBe(true);
    expect(await verifyPassword('wrong password', stored)).toBe(false);
    expect(await verifyPassword('Right password', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('handles passwords beyond ASCII', async () => {
    const stored = await hashPassword('pässwörd 🔑 パスワード');
    expect(await verifyPassword('pässwörd 🔑 パスワード', stored)).toBe(true);
    expect(await verifyPassword('passwort 🔑 パスワード', stored)).toBe(false);
  });

  it('verifies with the parameters stored in the hash, so they can change later', async () => {
    // A hash made with other (cheaper) parameters and a 32-byte key still verifies.
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('old password', salt, 32, { N: 1024, r: 4, p: 2 });
    const stored = `scrypt$1024$4$2$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword('old password', stored)).toBe(true);
    expect(await verifyPassword('new password', stored)).toBe(false);
    expect(SCRYPT_PARAMS).toEqual({ N: 16384, r: 8, p: 1 });
  });

  it.each([
    ['not a hash'],
    ['bcrypt$16384$8$1$c2FsdA==$aGFzaA=='],
    ['scrypt$1000$8$1$c2FsdA==$aGFzaA=='],
    ['scrypt$16384$0$1$c2FsdA==$aGFzaA=='],
    ['scrypt$16384$8$1$$aGFzaA=='],
    ['scrypt$16384$8$1$c2FsdA==$'],
    ['scrypt$16384$8$1$c2FsdA==$aGFzaA==$extra'],
  ])('refuses to verify against a corrupt stored hash %j', async (stored) => {
    await expect(verifyPassword('password', stored)).rejects.toThrow('Unrecognised password hash format');
  });

  it('makes one dummy hash, with the current parameters, that no password matches', async () => {
    const dummy = await dummyPasswordHash();
    expect(await dummyPasswordHash()).toBe(dummy);
    expect(dummy).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('', dummy)).toBe(false);
  });
});
