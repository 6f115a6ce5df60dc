/**
 * The OpenAPI plumbing every server shares: named components, the error body, the statuses every
 * operation answers whatever its route (and that it really answers them), security, and request
 * validation staying strict in a plugin scope that adds schemas of its own.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer, type HttpApp } from '../src/http/server.ts';
import {
  errorResponses,
  ref,
  SESSION_OPTIONAL,
  SESSION_REQUIRED,
  PUBLIC,
  success,
} from '../src/http/openapi.ts';
import { NotFoundError } from '../src/errors.ts';
import { silentLogger } from '../src/testing/index.ts';

const Thing = Type.Object({ id: Type.String(), name: Type.String() }, { $id: 'Thing' });

interface Operation {
  operationId?: string;
  security?: unknown;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  openapi: string;
  servers?: unknown[];
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const server = () =>
  buildHttpServer({
    logger: silentLogger,
    jwtKey: 'openapi-test-key-0123456789-0123456789-0123',
    secureCookies: false,
    title: 'test',
    readiness: {},
  });

describe('the OpenAPI document and the routes it describes', () => {
  let app: HttpApp;
  let document: Document;
  beforeAll(async () => {
    app = await server();
    // As a service registers its routes: in a scope of its own, with its named schemas.
    await app.register(async (plain) => {
      const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
      scope.addSchema(Thing);
      scope.post(
        '/api/things',
        {
          schema: {
            operationId: 'createThing',
            summary: 'Create a thing',
            security: SESSION_REQUIRED,
            body: Type.Object(
              { name: Type.String({ maxLength: 5 }), count: Type.Integer() },
              {
                additionalProperties: false,
              },
            ),
            response: { 201: success(Thing, 'The new thing') },
          },
        },
        async (request, reply) => reply.status(201).send({ id: '1', name: request.body.name }),
      );
      scope.get(
        '/api/things/:id',
        {
          schema: {
            operationId: 'getThing',
            summary: 'One thing',
            security: PUBLIC,
            params: Type.Object({ id: Type.String() }),
            response: {
              200: success(Type.Object({ thing: ref(Thing) }), 'The thing'),
              ...errorResponses({ 404: 'No such thing' }),
            },
          },
        },
        async (request) => {
          if (request.params.id !== '1') throw new NotFoundError('No such thing');
          return { thing: { id: '1', name: 'one', secret: 'not sent' } };
        },
      );
      scope.get(
        '/api/me',
        { schema: { operationId: 'me', summary: 'Me, or null', security: SESSION_OPTIONAL } },
        async () => ({ me: null }),
      );
    });
    await app.ready();
    document = (await app.inject({ url: '/api/docs/json' })).json<Document>();
  });
  afterAll(() => app.close());

  it('names components after their schemas, and refers to them', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(Object.keys(document.components.schemas).sort()).toEqual(['Error', 'Thing']);
    expect(document.components.schemas.Error).toMatchObject({
      type: 'object',
      required: ['errors'],
      properties: { errors: { type: 'array', minItems: 1 } },
    });
    const created = document.paths['/api/things']!.post!.responses['201']!;
    expect(created.description).toBe('The new thing');
    expect(created.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Thing' });
    const thing = document.paths['/api/things/{id}']!.get!.responses['200']!;
    expect(thing.content!['application/json']!.schema).toMatchObject({
      properties: { thing: { $ref: '#/components/schemas/Thing' } },
    });
  });

  it("lists the route's own errors and those every operation can answer, in the error body", () => {
    const statuses = (path: string, method: string) =>
      Object.keys(document.paths[path]![method]!.responses).sort();
    expect(statuses('/api/things', 'post')).toEqual(['201', '400', '403', '413', '415', '429', '500']);
    expect(statuses('/api/things/{id}', 'get')).toEqual(['200', '400', '404', '414', '429', '500']);
    // The ceiling per client address, with the seconds to wait.
    expect(document.paths['/api/things']!.post!.responses['429']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      headers: { 'retry-after': { schema: { type: 'integer' } } },
    });
    const notFound = document.paths['/api/things/{id}']!.get!.responses['404']!;
    expect(notFound).toEqual({
      description: 'No such thing',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  });

  it('says which operations need the session cookie', () => {
    expect(document.components.securitySchemes).toEqual({
      session: { type: 'apiKey', in: 'cookie', name: 'session', description: expect.any(String) },
    });
    expect(document.paths['/api/things']!.post!.security).toEqual([{ session: [] }]);
    expect(document.paths['/api/things/{id}']!.get!.security).toEqual([]);
    expect(document.paths['/api/me']!.get!.security).toEqual([{}, { session: [] }]);
  });

  it('answers each status the document lists for every operation, in the error body', async () => {
    const post = (payload: string, contentType = 'application/json') =>
      app.inject({ method: 'POST', url: '/api/things', headers: { 'content-type': contentType }, payload });
    const answers = [
      await post('{"name":'), // malformed JSON
      await app.inject({ url: '/api/things/1?q=%00' }), // U+0000 in the query
      await app.inject({ url: '/api/me?q=%00' }), // even where the route reads no query
      await post(JSON.stringify({ name: 'x'.repeat(70_000), count: 1 })),
      await post('<thing/>', 'application/xml'),
      await app.inject({ url: `/api/things/${'1'.repeat(101)}` }), // a path parameter over the limit
      await app.inject({ method: 'POST', url: '/api/things', headers: { origin: 'https://elsewhere.test' } }),
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([400, 400, 400, 413, 415, 414, 403]);
    for (const answer of answers) {
      expect(answer.json()).toEqual({ errors: [expect.objectContaining({ message: expect.any(String) })] });
    }
  });

  it('serialises responses through the named schema: fields it does not name are not sent', async () => {
    const response = await app.inject({ url: '/api/things/1' });
    expect(response.json()).toEqual({ thing: { id: '1', name: 'one' } });
    expect((await app.inject({ url: '/api/things/2' })).json()).toEqual({
      errors: [{ message: 'No such thing' }],
    });
  });

  it('validates bodies as strictly in a scope that adds schemas of its own as at the root', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/things',
      payload: { name: 'too long', count: '3', extra: true },
    });
    expect(response.statusCode).toBe(400);
    // Every problem (allErrors), no coercion of "3", no unknown field let through.
    expect(
      response
        .json<{ errors: { field?: string }[] }>()
        .errors.map((e) => e.field)
        .sort(),
    ).toEqual(['count', 'extra', 'name']);
  });
});

describe('two services naming different schemas alike', () => {
  it('is refused when the server gets ready: the document holds one schema per name', async () => {
    const app = await server();
    for (const name of [Type.String(), Type.Integer()]) {
      await app.register(async (scope) => {
        scope.addSchema(Type.Object({ name }, { $id: 'Clash' }));
      });
    }
    await expect(app.ready()).rejects.toThrow('two different schemas are named Clash');
    await app.close();
  });
});
