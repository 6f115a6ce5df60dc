import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveSecret } from '../src/config/config.ts';

describe('resolveSecret', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const options = { name: 'SOME_KEY', file: 'some-key' };

  it('takes the value given, and in production only one of at least 32 characters', () => {
    const dir = dataDir();
    expect(resolveSecret({ ...options, value: 'short', nodeEnv: 'development', dataDir: dir })).toBe('short');
    expect(() => resolveSecret({ ...options, value: 'short', nodeEnv: 'production', dataDir: dir })).toThrow(
      new ConfigError('SOME_KEY must be at least 32 characters in production'),
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never generates one in production', () => {
    expect(() => resolveSecret({ ...options, nodeEnv: 'production', dataDir: dataDir() })).toThrow(
      new ConfigError('SOME_KEY is required when NODE_ENV=production'),
    );
  });

  it('generates one in development, keeps it in the data directory, and gives the same one after', () => {
    const dir = dataDir();
    const first = resolveSecret({ ...options, nodeEnv: 'development', dataDir: dir });
    expect(first).toMatch(/^[\w-]{43}$/);
    expect(resolveSecret({ ...options, nodeEnv: 'test', dataDir: dir })).toBe(first);
    expect(readdirSync(dir)).toEqual(['some-key']); // no draft left behind
    expect(resolveSecret({ ...options, file: 'other-key', nodeEnv: 'test', dataDir: dir })).not.toBe(first);
  });
});
