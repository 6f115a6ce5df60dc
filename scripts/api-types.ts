/**
 * `npm run generate:api-types`: writes apps/web/src/api-types.ts, the TypeScript types of the
 * marketplace's OpenAPI document (the one `/api/docs/json` serves, built by
 * `marketplaceOpenApiDocument` without a database, a bus or a port) as openapi-typescript renders
 * them, formatted like the rest of the repository. The web client names its API types from that
 * file (apps/web/src/api.ts); scripts/test/api-types.test.ts fails while the committed file is not
 * what this script writes now.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';
import { marketplaceOpenApiDocument } from '@ticketing/marketplace/openapi';

export const API_TYPES_FILE = fileURLToPath(new URL('../apps/web/src/api-types.ts', import.meta.url));

const HEADER = `/**
 * Generated from the marketplace's OpenAPI document by \`npm run generate:api-types\`
 * (scripts/api-types.ts): do not edit. The web client names these types in src/api.ts.
 */
`;

/** The text apps/web/src/api-types.ts should hold for the routes as they are now. */
export async function renderApiTypes(): Promise<string> {
  const document = await marketplaceOpenApiDocument();
  // openapi-typescript's own types want an OpenAPI 3 object; the served document is one.
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0]);
  const source = HEADER + '\n' + astToString(ast);
  const options = await resolveConfig(API_TYPES_FILE);
  return format(source, { ...options, filepath: API_TYPES_FILE });
}

/** The committed file, or null when there is none. */
export async function committedApiTypes(): Promise<string | null> {
  return readFile(API_TYPES_FILE, 'utf8').catch(() => null);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(API_TYPES_FILE, await renderApiTypes());
  console.log(`wrote ${API_TYPES_FILE}`);
}
