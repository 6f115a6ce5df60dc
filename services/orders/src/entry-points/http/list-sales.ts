import { Type, type Static } from 'typebox';
import {
  errorResponses,
  fromCents,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { listOwnSales } from '../../domain/orders.ts';
import type { Sale } from '../../data-access/orders-repository.ts';

const SaleJson = Type.Object({
  orderId: Type.String({ format: 'uuid', description: "The buyer's order." }),
  ticket: Type.Object({ id: Type.String({ format: 'uuid' }), title: Type.String({ minLength: 1 }) }),
  price: Type.Number({
    exclusiveMinimum: 0,
    multipleOf: 0.01,
    description: 'What it sold for, in currency units.',
  }),
  soldAt: Type.String({ format: 'date-time', description: 'When the buyer paid.' }),
});

const saleJson = ({ order, title }: Sale): Static<typeof SaleJson> => ({
  orderId: order.id,
  ticket: { id: order.ticketId, title },
  price: fromCents(order.priceCents),
  soldAt: (order.completedAt ?? order.createdAt).toISOString(),
});

export async function listSalesRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.get(
    '/api/orders/sales',
    {
      schema: {
        operationId: 'listSales',
        summary: "The signed-in user's completed sales, the most recent first",
        tags: ['orders'],
        security: SESSION_REQUIRED,
        response: {
          200: success(Type.Object({ sales: Type.Array(SaleJson) }), 'Every ticket the user sold'),
          ...errorResponses({ 401: 'Not signed in' }),
        },
      },
    },
    async (request) => ({ sales: (await listOwnSales(database.db, requireUser(request))).map(saleJson) }),
  );
}
