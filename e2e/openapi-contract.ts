/**
 * The OpenAPI document as a contract the end-to-end tests hold every response to, so that the
 * document cannot drift from the API. Each response is checked against the document served by the
 * origin that answered it (`GET /api/docs/json`: the marketplace's, or one service's own when each
 * runs as its own process), with openapi-backend (operation matching, Ajv validation of bodies):
 *
 * - the status must be one the matched operation lists;
 * - a status listed with a JSON body must answer JSON that matches its schema, and that holds no
 *   field the schema does not name (the document is read as if every object it describes said
 *   `additionalProperties: false`: a field the API sends but the document does not know is drift);
 * - a status listed without a body (204) must answer none;
 * - a request that matches no operation must be the API's 404, in the `Error` body.
 *
 * Not API routes, and so not looked at: the web client (any path outside `/api/`), the probes and
 * the scrape (`/healthz`, `/readyz`, `/metrics`) and the document itself (`/api/docs...`).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { OpenAPIBackend, type Document } from 'openapi-backend';

/** A response, as the tests received it. */
export interface Exchange {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  /** The body as text; '' when there was none. */
  text: string;
}

/** Paths whose responses are not the API's, and that the document leaves out on purpose. */
export function isApiPath(pathname: string): boolean {
  return (pathname === '/api' || pathname.startsWith('/api/')) && !pathname.startsWith('/api/docs');
}

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function withFormats(ajv: Ajv): Ajv {
  addFormats(ajv);
  ajv.addFormat('uuid', UUID); // as the services read it (ajv-formats' also takes `urn:uuid:`)
  return ajv;
}

/** A copy of `schema` in which every object that names its properties allows no others. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy;
}

type Responses = Record<string, { content?: Record<string, unknown> }>;

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

export class OpenApiContract {
  private constructor(
    private readonly api: OpenAPIBackend,
    private readonly errorBody: ValidateFunction,
  ) {}

  /** The contract of a served document (a document object, as `GET /api/docs/json` answers it). */
  static async of(document: object): Promise<OpenApiContract> {
    const definition = closed(document) as Document & { components: { schemas: { Error: object } } };
    const api = new OpenAPIBackend({
      definition,
      strict: true, // a document that is not valid OpenAPI fails here
      ajvOpts: { strict: false, multipleOfPrecision: 6 }, // 19.99 is a multiple of 0.01
      customizeAjv: withFormats,
    });
    await api.init();
    const errorBody = withFormats(new Ajv({ strict: false })).compile(definition.components.schemas.Error);
    return new OpenApiContract(api, errorBody);
  }

  /** Throws a ContractViolation saying how `exchange` departs from the document. */
  check(exchange: Exchange): void {
    const { method, status, contentType, text } = exchange;
    const { pathname } = new URL(exchange.url);
    if (!isApiPath(pathname)) return;
    const where = `${method} ${pathname}`;
    const operation = this.api.matchOperation({ method, path: pathname, headers: {} });
    if (!operation) {
      // No operation: the API's own 404 for a route it does not have.
      if (status !== 404) fail(`${where} matches no operation of the document, yet answered ${status}`);
      this.checkJson(where, status, contentType, text, (body) => this.errors(this.errorBody, body));
      return;
    }
    const name = `${operation.operationId} (${where})`;
    const responses = (operation.responses ?? {}) as Responses;
    const listed = responses[status] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (!listed) {
      fail(
        `${name} answered ${status}, which the document does not list (it lists ${Object.keys(responses).join(', ')}): ${text.slice(0, 300)}`,
      );
    }
    if (!listed.content) {
      if (text !== '') fail(`${name} answered ${status} with a body, which the document lists without one`);
      return;
    }
    if (!listed.content['application/json']) {
      fail(
        `${name} lists ${status} as ${Object.keys(listed.content).join(', ')}, which these checks do not read`,
      );
    }
    this.checkJson(where, status, contentType, text, (body) => {
      const result = this.api.validateResponse(body, operation, status);
      return result.valid ? undefined : JSON.stringify(result.errors);
    });
  }

  private checkJson(
    where: string,
    status: number,
    contentType: string | null,
    text: string,
    problems: (body: unknown) => string | undefined,
  ): void {
    if (!contentType?.startsWith('application/json')) {
      fail(
        `${where} answered ${status} as ${contentType ?? 'no content type'}, where the document lists JSON`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      fail(`${where} answered ${status} with a body that is not JSON: ${text.slice(0, 300)}`);
    }
    const found = problems(body);
    if (found) {
      fail(
        `${where} answered ${status} with a body the document does not allow: ${found}\nbody: ${text.slice(0, 500)}`,
      );
    }
  }

  private errors(validate: ValidateFunction, body: unknown): string | undefined {
    return validate(body) ? undefined : JSON.stringify(validate.errors);
  }
}

function fail(message: string): never {
  throw new ContractViolation(message);
}

/** The contracts of the origins the tests talk to, each read from its served document once. */
const contracts = new Map<string, Promise<OpenApiContract>>();

export function contractOf(origin: string): Promise<OpenApiContract> {
  let contract = contracts.get(origin);
  if (!contract) {
    contract = (async () => {
      const response = await fetch(`${origin}/api/docs/json`);
      if (!response.ok) throw new Error(`${origin}/api/docs/json answered ${response.status}`);
      return OpenApiContract.of((await response.json()) as object);
    })();
    contracts.set(origin, contract);
    contract.catch(() => contracts.delete(origin)); // not ready yet: ask again next time
  }
  return contract;
}

/** Forgets the documents of stopped systems: another system may come to listen on their ports. */
export function forgetContracts(origins: Iterable<string>): void {
  for (const origin of origins) contracts.delete(new URL(origin).origin);
}

/** Holds `exchange` to the document its origin serves (API paths only); throws when it departs. */
export async function checkExchange(exchange: Exchange): Promise<void> {
  const url = new URL(exchange.url);
  if (!isApiPath(url.pathname)) return;
  (await contractOf(url.origin)).check(exchange);
}

/**
 * `fetch`, with the response held to the served document before the test sees it. The body is
 * read from a clone: the caller can still read it.
 */
export async function checkedFetch(input: string | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const url = new URL(response.url || String(input));
  if (isApiPath(url.pathname)) {
    await checkExchange({
      method: init?.method ?? 'GET',
      url: url.href,
      status: response.status,
      contentType: response.headers.get('content-type'),
      text: await response.clone().text(),
    });
  }
  return response;
}
