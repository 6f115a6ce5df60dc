/**
 * Logs: one line per request at info, but health checks and metrics scrapes only at debug (a
 * supervisor polls `/readyz` every quarter of a second); and lines for humans when stdout is a
 * terminal, JSON lines otherwise, unless `LOG_PRETTY` says which.
 */
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildHttpServer } from '../src/http/server.ts';
import { prettyLogs } from '../src/logger.ts';

interface Line {
  level: number;
  msg: string;
  url?: string;
  status?: number;
}

/** A server whose log lines (at `level` and above) land in the returned array. */
async function serverLoggingAt(level: string, ready = true) {
  const lines: Line[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Line);
        done();
      },
    }),
  );
  const app = await buildHttpServer({
    logger,
    jwtKey: 'logging-test-key-0123456789-0123456789-0123',
    secureCookies: false,
    title: 'test',
    readiness: { database: async () => ready },
  });
  app.get('/api/things', async () => ({ things: [] }));
  await app.ready();
  const requestLines = () => lines.filter((line) => line.msg === 'request');
  return { app, requestLines };
}

const PROBES = ['/healthz', '/readyz', '/metrics'];

describe('request log lines', () => {
  it('logs a request at info, and health checks and metrics scrapes not at info', async () => {
    const { app, requestLines } = await serverLoggingAt('info');
    try {
      for (const url of PROBES) expect((await app.inject({ url })).statusCode, url).toBe(200);
      expect((await app.inject({ url: '/api/things?page=2' })).statusCode).toBe(200);
      expect(requestLines()).toEqual([
        expect.objectContaining({ level: 30, url: '/api/things?page=2', status: 200 }),
      ]);
    } finally {
      await app.close();
    }
  });

  it('logs health checks and metrics scrapes at debug', async () => {
    const { app, requestLines } = await serverLoggingAt('debug');
    try {
      for (const url of PROBES) await app.inject({ url });
      await app.inject({ url: '/api/things' });
      expect(requestLines().map(({ level, url }) => [level, url])).toEqual([
        [20, '/healthz'],
        [20, '/readyz'],
        [20, '/metrics'],
        [30, '/api/things'],
      ]);
    } finally {
      await app.close();
    }
  });

  it('keeps a failing readiness check at debug too (its 503 says which check failed)', async () => {
    const { app, requestLines } = await serverLoggingAt('info', false);
    try {
      const response = await app.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ checks: { database: false } });
      expect(requestLines()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('LOG_PRETTY', () => {
  const installed = () => true;

  it('writes lines for humans on a terminal and JSON lines elsewhere, when unset', () => {
    expect(prettyLogs({}, true, installed)).toBe(true);
    expect(prettyLogs({}, false, installed)).toBe(false);
    expect(prettyLogs({ LOG_PRETTY: '' }, true, installed)).toBe(true);
    // A production install has no pino-pretty: JSON, even on a terminal.
    expect(prettyLogs({}, true, () => false)).toBe(false);
  });

  it('1 and 0 decide whatever stdout is', () => {
    expect(prettyLogs({ LOG_PRETTY: '1' }, false, installed)).toBe(true);
    expect(prettyLogs({ LOG_PRETTY: '0' }, true, installed)).toBe(false);
  });

  it('refuses any other value, and 1 without pino-pretty, saying what to do', () => {
    expect(() => prettyLogs({ LOG_PRETTY: 'yes' }, true, installed)).toThrow(
      'LOG_PRETTY must be 1 (lines for humans) or 0 (JSON lines), not "yes"',
    );
    expect(() => prettyLogs({ LOG_PRETTY: '1' }, false, () => false)).toThrow(/needs pino-pretty/);
  });

  // A real terminal: util-linux's `script` runs the command on a pseudo-terminal.
  const logOnce = (env: Record<string, string>, terminal: boolean): string => {
    const logger = fileURLToPath(new URL('../src/logger.ts', import.meta.url));
    const program = `import { createLogger } from ${JSON.stringify(logger)}; createLogger('demo').info({ answer: 42 }, 'hello');`;
    const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', program];
    const quoted = node.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const [file, args] = terminal ? ['script', ['-qec', quoted, '/dev/null']] : [node[0]!, node.slice(1)];
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'info',
      LOG_PRETTY: '',
      NO_COLOR: '1',
      ...env,
    };
    return execFileSync(file, args, { env: childEnv, encoding: 'utf8', timeout: 30_000 });
  };

  it('on a real terminal, by default, the line reads as text; piped, it is JSON', () => {
    const pretty = logOnce({}, true);
    expect(pretty).toMatch(/INFO \(demo\): hello \{"answer":42\}/);
    expect(() => JSON.parse(pretty.trim()) as unknown).toThrow();

    expect(JSON.parse(logOnce({}, false).trim())).toMatchObject({ name: 'demo', msg: 'hello', answer: 42 });
    expect(JSON.parse(logOnce({ LOG_PRETTY: '0' }, true).trim())).toMatchObject({ msg: 'hello' });
  }, 60_000);
});
