import { Type } from 'typebox';
import {
  errorResponses,
  ref,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { listOwnOrders } from '../../domain/orders.ts';
import { OrderJson, orderJson } from './order-json.ts';

export async function listOrdersRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.get(
    '/api/orders',
    {
      schema: {
        operationId: 'listOrders',
        summary: "The signed-in user's orders, newest first",
        tags: ['orders'],
        security: SESSION_REQUIRED,
        response: {
          200: success(Type.Array(ref(OrderJson)), 'Every order of the user, with its ticket'),
          ...errorResponses({ 401: 'Not signed in' }),
        },
      },
    },
    async (request) => (await listOwnOrders(database.db, requireUser(request))).map(orderJson),
  );
}
