import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { startAuth } from './fixtures.ts';

describe('GET /api/docs/json', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());

  it('documents every users route with a summary and its responses', async () => {
    const response = await t.app.inject({ url: '/api/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = response.json<{
      paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: object }>>;
    }>().paths;
    const routes = [
      ['/api/users/signup', 'post', '201'],
      ['/api/users/signin', 'post', '200'],
      ['/api/users/signout', 'post', '200'],
      ['/api/users/currentuser', 'get', '200'],
    ] as const;
    for (const [path, method, status] of routes) {
      const operation = paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation!.summary).toBeTruthy();
      expect(operation!.tags).toEqual(['users']);
      expect(operation!.responses).toHaveProperty(status);
    }
  });
});
