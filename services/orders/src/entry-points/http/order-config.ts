import { Type } from 'typebox';
import { PUBLIC, success, type HttpApp } from '@ticketing/common';
import type { OrdersSettings } from '../../domain/orders.ts';

/**
 * What a client tells a buyer before they reserve: how long an order holds its ticket unpaid
 * (`ORDER_EXPIRATION_SECONDS`), so that "Purchase" can say it reserves the ticket for 15 minutes.
 */
export async function orderConfigRoute(app: HttpApp, settings: OrdersSettings): Promise<void> {
  app.get(
    '/api/orders/config',
    {
      schema: {
        operationId: 'getOrderConfig',
        summary: 'How long an unpaid order holds its ticket',
        tags: ['orders'],
        security: PUBLIC,
        response: {
          200: success(
            Type.Object({
              expirationSeconds: Type.Integer({
                minimum: 1,
                description:
                  'How long a new order holds its ticket unpaid, in seconds, before it is cancelled',
              }),
            }),
            'The reservation window',
          ),
        },
      },
    },
    async () => ({ expirationSeconds: settings.expirationSeconds }),
  );
}
