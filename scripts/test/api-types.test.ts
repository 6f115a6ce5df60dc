/**
 * The web client's API types are generated from the OpenAPI document the marketplace serves: the
 * committed apps/web/src/api-types.ts must be what `npm run generate:api-types` writes from the
 * routes as they are, or a change to a route's schema would leave the client typed against the
 * old one.
 */
import { describe, expect, it } from 'vitest';
import { committedApiTypes, renderApiTypes } from '../api-types.ts';

describe('apps/web/src/api-types.ts', () => {
  it('is what npm run generate:api-types writes now (run it after changing a route schema)', async () => {
    expect(await committedApiTypes()).toBe(await renderApiTypes());
  });
});
