/**
 * The web client (apps/web) served by the marketplace, on the same port as the APIs, so the
 * browser talks to one origin and the httpOnly session cookie needs no CORS.
 *
 * - `ensureWebBuild` builds the client with Vite (a child process, so Vite and its native
 *   bundler never load into the server) when `apps/web/dist` is missing or older than the sources.
 * - `serveWebClient` serves the files of `dist`; any other GET outside `/api` answers index.html
 *   so the client's router can show the page (a reload on `/orders/...` works). `/api/*` keeps the
 *   JSON 404 of the API, and a missing hashed asset (`/assets/...`) is a real 404, not HTML that a
 *   browser would try to run as a script.
 * - `useCompression` compresses the answers, the API's and the client's, for a browser that
 *   accepts it (brotli, else gzip).
 */
import { spawn } from 'node:child_process';
import { access, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCompress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import type { Logger } from 'pino';
import type { HttpApp } from '@ticketing/common';

export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
export const WEB_DIST = path.join(WEB_ROOT, 'dist');

/** Everything the build reads; a change to any of them makes the build stale. */
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'];

async function newestMtime(entry: string): Promise<number> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const children = await readdir(entry);
  const times = await Promise.all(children.map((child) => newestMtime(path.join(entry, child))));
  return Math.max(info.mtimeMs, ...times);
}

/** Why the client needs building (`undefined`: `dist` is up to date, or there are no sources). */
export async function webBuildReason(root = WEB_ROOT): Promise<string | undefined> {
  const built = await stat(path.join(root, 'dist', 'index.html')).catch(() => undefined);
  if (!built) return 'apps/web/dist is missing';
  const sources = await Promise.all(SOURCES.map((source) => newestMtime(path.join(root, source))));
  return Math.max(...sources) > built.mtimeMs ? 'apps/web changed since the last build' : undefined;
}

/** `vite build` in apps/web; resolves when it succeeded, rejects with its output otherwise. */
export async function buildWebClient(
  logger: Pick<Logger, 'info' | 'debug'>,
  root = WEB_ROOT,
  signal?: AbortSignal,
): Promise<void> {
  // Vite is a dependency of apps/web (hoisted or not): resolve it from there.
  const vitePackage = createRequire(path.join(root, 'package.json')).resolve('vite/package.json');
  const viteBin = path.join(path.dirname(vitePackage), 'bin', 'vite.js');
  const started = Date.now();
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [viteBin, 'build'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
      signal,
    });
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      logger.debug({ component: 'vite' }, text.trimEnd());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject); // an abort's too
    child.once('exit', (code, killedBy) =>
      code === 0
        ? resolve()
        : reject(new WebBuildError(killedBy ?? `exit code ${code}`, output.join('').slice(-4000))),
    );
  });
  logger.info({ ms: Date.now() - started }, 'web client built');
}

/**
 * A failed `vite build`. Its message is one line (what to run to see why); `output` holds the
 * end of what Vite printed.
 */
export class WebBuildError extends Error {
  constructor(
    how: string,
    readonly output: string,
  ) {
    super(
      `vite build failed (${how}): ${lastErrorLine(output)}; run \`npm run build -w @ticketing/web\` to see why`,
    );
    this.name = 'WebBuildError';
  }
}

function lastErrorLine(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.findLast((line) => /error/i.test(line)) ?? lines.at(-1) ?? 'no output';
}

/** Builds the client first when it is missing or stale; returns the folder to serve. */
export async function ensureWebBuild(
  logger: Pick<Logger, 'info' | 'debug'>,
  root = WEB_ROOT,
  signal?: AbortSignal,
): Promise<string> {
  const reason = await webBuildReason(root);
  if (reason) {
    logger.info({ reason }, 'building the web client (vite build), a few seconds…');
    await buildWebClient(logger, root, signal);
  }
  return path.join(root, 'dist');
}

/**
 * Brotli (quality 4: about gzip's size and time; 11 takes a second for the main bundle, which is
 * why the build compresses the client's files once, at quality 11) or gzip, for answers of 1 KB
 * and more whose type compresses (JSON, JavaScript, CSS, HTML, SVG) and that are not compressed
 * already (the client's files, sent as the build compressed them). Request bodies are not
 * decompressed: the API reads small JSON bodies only. Register it before the routes.
 */
export async function useCompression(app: HttpApp): Promise<void> {
  await app.register(fastifyCompress, {
    encodings: ['br', 'gzip'],
    threshold: 1024,
    globalDecompression: false,
  });
}

const isApi = (pathname: string) => pathname === '/api' || pathname.startsWith('/api/');

/** Registers the client's routes on the marketplace server; call after the services' routes. */
export async function serveWebClient(app: HttpApp, distDir: string): Promise<void> {
  const root = path.resolve(distDir);
  // Fail at start, not at the first request, when there is no build to serve.
  await access(path.join(root, 'index.html'));
  // The build's `.br` and `.gz` copies go to a browser that accepts them (else the file itself).
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true, preCompressed: true });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    } catch {
      return reply.callNotFound(); // malformed %-escapes
    }
    if (isApi(pathname)) return reply.callNotFound();

    const file = path.resolve(root, `.${pathname}`);
    const inside = file.startsWith(root + path.sep);
    const info = inside ? await stat(file).catch(() => undefined) : undefined;
    if (info?.isFile()) {
      const relative = path.relative(root, file);
      // The same URL is brotli, gzip or neither, by the request's Accept-Encoding: caches must know.
      reply.header('vary', 'accept-encoding');
      // Vite names assets by content hash: they never change under the same name.
      return relative.startsWith(`assets${path.sep}`)
        ? reply.sendFile(relative, { maxAge: '1y', immutable: true })
        : reply.sendFile(relative, { maxAge: 0 });
    }
    if (pathname.startsWith('/assets/')) return reply.callNotFound();
    // index.html names the current assets: never cached, so a new build is picked up at once.
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
