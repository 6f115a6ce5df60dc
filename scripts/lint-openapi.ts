/**
 * `npm run lint:openapi`: writes the marketplace's OpenAPI document (every service's routes, as
 * `/api/docs/json` serves it) to a temporary file and lints it with Redocly CLI, configured by
 * redocly.yaml. Exits with Redocly's status. `--keep <file>` also writes the document there.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { marketplaceOpenApiDocument } from '@ticketing/marketplace/openapi';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.indexOf('--keep');

const document = JSON.stringify(await marketplaceOpenApiDocument(), null, 2);
if (keep !== -1 && process.argv[keep + 1]) await writeFile(process.argv[keep + 1]!, document);
const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-openapi-'));
let status: number;
try {
  const file = path.join(dir, 'openapi.json');
  await writeFile(file, document);
  const redoclyPackage = createRequire(import.meta.url).resolve('@redocly/cli/package.json');
  const cli = path.join(path.dirname(redoclyPackage), 'bin', 'cli.js');
  status = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, 'lint', file, '--config', path.join(root, 'redocly.yaml'), '--format', 'codeframe'],
      {
        cwd: root,
        stdio: 'inherit',
        // No usage report and no update check: CI has no business calling home.
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(status);
