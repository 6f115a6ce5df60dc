import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { getOwnOrder } from '../../domain/orders.ts';
import { OrderJson, OrderParams, orderJson } from './order-json.ts';

export async function showOrderRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.get(
    '/api/orders/:id',
    {
      schema: {
        summary: 'One of your orders',
        tags: ['orders'],
        security: [{ session: [] }],
        params: OrderParams,
        response: { 200: OrderJson },
      },
    },
    async (request) => orderJson(await getOwnOrder(database.db, requireUser(request), request.params.id)),
  );
}
