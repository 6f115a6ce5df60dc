import { Type } from 'typebox';
import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { cancelOrder } from '../../domain/orders.ts';
import { OrderParams } from './order-json.ts';

export async function cancelOrderRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.delete(
    '/api/orders/:id',
    {
      schema: {
        summary: 'Cancel one of your orders (releases its ticket)',
        tags: ['orders'],
        security: [{ session: [] }],
        params: OrderParams,
        response: { 204: Type.Null({ description: 'Cancelled, now or before' }) },
      },
    },
    async (request, reply) => {
      await cancelOrder(database.db, requireUser(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
