/**
 * The web image's nginx answers with the security headers the marketplace gives (the same CSP,
 * with Stripe's origins only when STRIPE_PUBLISHABLE_KEY is set), rendered as the image's
 * entrypoint renders its templates; its configuration is one nginx accepts and serves (run when
 * an nginx binary is installed, as on CI). And the compose gateway passes on the Host the browser
 * sent, which the services compare with a write's Origin.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appCspDirectives, buildHttpServer, cspText, freePort } from '@ticketing/common';
import { silentLogger, waitFor } from '@ticketing/common/testing';
import { findNginx, readRepoFile, repoPath } from './support.ts';

/** WEB_CSP as web-csp.envsh sets it, sourced by sh as the entrypoint sources it. */
function webCsp(env: Record<string, string>): string {
  const result = spawnSync(
    'sh',
    ['-c', `. "${repoPath('infra/docker/web/web-csp.envsh')}" && printf %s "$WEB_CSP"`],
    {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    },
  );
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

/**
 * A template rendered as the image's entrypoint renders it (envsubst of the variables its
 * environment defines, here WEB_CSP only): nginx's own `$uri` and the like stay.
 */
const render = (template: string, csp: string) => template.replaceAll('${WEB_CSP}', csp);

/** The `add_header NAME "VALUE" always;` lines of a snippet, by lower-cased name. */
function addedHeaders(snippet: string): Record<string, string> {
  return Object.fromEntries(
    [...snippet.matchAll(/^add_header ([\w-]+) "([^"]*)" always;$/gm)].map((match) => [
      match[1]!.toLowerCase(),
      match[2]!,
    ]),
  );
}

describe('the web image’s security headers', () => {
  const snippet = readRepoFile('infra/docker/web/security-headers.conf');
  const site = readRepoFile('infra/docker/web/nginx.conf');

  it('are the CSP the marketplace gives the web client, Stripe’s origins only with a publishable key', () => {
    expect(webCsp({})).toBe(cspText(appCspDirectives({ stripe: false })));
    expect(webCsp({ STRIPE_PUBLISHABLE_KEY: '' })).toBe(cspText(appCspDirectives({ stripe: false })));
    expect(webCsp({ STRIPE_PUBLISHABLE_KEY: 'pk_test_x' })).toBe(cspText(appCspDirectives({ stripe: true })));
    expect(webCsp({})).not.toContain('stripe');
  });

  it('are every header the marketplace gives in production, with the same values', async () => {
    const app = await buildHttpServer({
      logger: silentLogger,
      jwtKey: 'web-headers-test-key-0123456789-0123456789',
      secureCookies: true,
      title: 'test',
      readiness: {},
      hardening: { production: true },
    });
    const { headers } = await app.inject({ url: '/healthz' });
    await app.close();
    const added = addedHeaders(render(snippet, webCsp({})));
    // (helmet writes the policy without a space after each `;`.)
    const policy = (text: unknown) =>
      String(text)
        .split(';')
        .map((directive) => directive.trim())
        .join('; ');
    expect(policy(added['content-security-policy'])).toBe(policy(headers['content-security-policy']));
    for (const name of [
      'x-frame-options',
      'x-content-type-options',
      'referrer-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'strict-transport-security',
    ])
      expect(added[name], name).toBe(headers[name]);
  });

  it('compresses: gzip on, the build’s .gz copies first, for scripts, styles, JSON and SVG too', () => {
    for (const directive of [
      'gzip on;',
      'gzip_static on;',
      'gzip_vary on;',
      'gzip_types text/css application/javascript application/json image/svg+xml;',
    ])
      expect(site).toContain(directive);
  });

  it('are included in every location (one that adds a header of its own inherits none)', () => {
    const locations = [...site.matchAll(/location [^{]+\{([^}]*)\}/g)].map((match) => match[1]!);
    expect(locations.length).toBe(3);
    for (const body of locations) expect(body).toContain('include /etc/nginx/conf.d/security-headers.inc;');
  });
});

const nginx = findNginx();
if (!nginx) console.warn('web image nginx test skipped: no nginx binary (apt-get install nginx-light)');

describe.runIf(nginx)('the web image’s nginx configuration, run by nginx', () => {
  let dir: string;
  let port: number;
  let master: ReturnType<typeof spawn> | undefined;
  const stopped = () =>
    new Promise<void>((resolve) =>
      master?.exitCode !== null ? resolve() : master.once('exit', () => resolve()),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ticketing-web-nginx-'));
    // Run as root, nginx's workers are nobody: they must reach the files.
    chmodSync(dir, 0o755);
    port = await freePort();
    const csp = webCsp({ STRIPE_PUBLISHABLE_KEY: 'pk_test_x' });
    mkdirSync(path.join(dir, 'conf.d'));
    mkdirSync(path.join(dir, 'html', 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'html', 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'html', 'assets', 'index-abc.js'), 'console.log(1);');
    // A bundle the build compressed (its .gz beside it, as vite build writes it), and one it did not.
    const bundle = `${'console.log("a ticket for sale");\n'.repeat(200)}`;
    writeFileSync(path.join(dir, 'html', 'assets', 'main-abc.js'), bundle);
    writeFileSync(path.join(dir, 'html', 'assets', 'main-abc.js.gz'), gzipSync(bundle, { level: 9 }));
    writeFileSync(path.join(dir, 'html', 'assets', 'other-abc.js'), bundle);
    // The image's paths and port, moved here.
    const site = render(readRepoFile('infra/docker/web/nginx.conf'), csp)
      .replaceAll('/etc/nginx/conf.d/', `${dir}/conf.d/`)
      .replace('root /usr/share/nginx/html;', `root ${dir}/html;`)
      .replace('listen 8080;', `listen 127.0.0.1:${port};`);
    writeFileSync(path.join(dir, 'conf.d', 'default.conf'), site);
    writeFileSync(
      path.join(dir, 'conf.d', 'security-headers.inc'),
      render(readRepoFile('infra/docker/web/security-headers.conf'), csp),
    );
    writeFileSync(
      path.join(dir, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log stderr error;\nevents {}\n` +
        `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n` +
        `  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n` +
        // The image's nginx.conf includes mime.types; these are the ones the client's files need.
        `  types { text/html html; application/javascript js; text/css css; }\n` +
        `  include ${dir}/conf.d/*.conf;\n}\n`,
    );
  });
  afterAll(async () => {
    master?.kill('SIGQUIT');
    await stopped();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is accepted (nginx -t), and answers every location with the headers', async () => {
    const test = spawnSync(nginx!, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], {
      encoding: 'utf8',
    });
    expect(test.status, test.stderr).toBe(0);
    master = spawn(nginx!, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], {
      stdio: 'ignore',
    });
    await waitFor(() => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok), 10_000, 50);
    for (const [url, cacheControl] of [
      ['/healthz', null],
      ['/', 'no-cache'],
      ['/tickets/1', 'no-cache'],
      ['/assets/index-abc.js', 'public, max-age=31536000, immutable'],
    ] as const) {
      const response = await fetch(`http://127.0.0.1:${port}${url}`);
      expect(response.status, url).toBe(200);
      const csp = response.headers.get('content-security-policy');
      expect(csp, url).toBe(cspText(appCspDirectives({ stripe: true })));
      expect(response.headers.get('x-frame-options'), url).toBe('DENY');
      expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(response.headers.get('strict-transport-security'), url).toContain('max-age=');
      expect(response.headers.get('cache-control'), url).toBe(cacheControl);
    }
  });

  it('sends the build’s gzip copy of a file, or gzips it on the fly, to a browser that accepts gzip', async () => {
    const bundle = `${'console.log("a ticket for sale");\n'.repeat(200)}`;
    for (const name of ['main-abc.js', 'other-abc.js']) {
      const url = `http://127.0.0.1:${port}/assets/${name}`;
      const compressed = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
      expect(compressed.headers.get('content-encoding'), name).toBe('gzip');
      expect(compressed.headers.get('vary'), name).toMatch(/accept-encoding/i);
      expect(compressed.headers.get('cache-control'), name).toBe('public, max-age=31536000, immutable');
      expect(await compressed.text(), name).toBe(bundle); // (fetch decodes it)
      const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.headers.get('content-encoding'), name).toBeNull();
      expect(await plain.text(), name).toBe(bundle);
    }
  });
});

describe('the compose gateway', () => {
  it('passes on the Host the browser sent, port included, as ingress-nginx does', () => {
    const gateway = readRepoFile('infra/docker/compose/gateway.conf');
    expect(gateway).toMatch(/^\s*proxy_set_header Host \$http_host;$/m);
    expect(gateway).not.toMatch(/proxy_set_header Host \$host;/);
  });
});
