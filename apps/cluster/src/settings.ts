/**
 * Where a run of the scale-out mode keeps its state, from the environment: read alike by
 * `npm run start:cluster` and `npm run clean:cluster`, so that the second removes what the first
 * made.
 */
import { Type } from 'typebox';

export const StoreSettings = {
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/postgres' }),
  DATABASE_PREFIX: Type.String({ pattern: '^[a-z][a-z0-9_]*$', default: 'ticketing_cluster' }),
  NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222' }),
  NATS_STREAM: Type.String({ default: 'TICKETING_CLUSTER' }),
};
