import { Type } from 'typebox';
import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { listOwnOrders } from '../../domain/orders.ts';
import { OrderJson, orderJson } from './order-json.ts';

export async function listOrdersRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.get(
    '/api/orders',
    {
      schema: {
        summary: "The signed-in user's orders, newest first",
        tags: ['orders'],
        security: [{ session: [] }],
        response: { 200: Type.Array(OrderJson) },
      },
    },
    async (request) => (await listOwnOrders(database.db, requireUser(request))).map(orderJson),
  );
}
