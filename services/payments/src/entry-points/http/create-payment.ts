import { Type } from 'typebox';
import {
  errorResponses,
  fromCents,
  PaymentStatus,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { payForOrder, type PaymentsDeps } from '../../domain/payments.ts';

const Body = Type.Object(
  {
    orderId: Type.String({ format: 'uuid' }),
    token: Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'Test provider: tok_visa (succeeds) or tok_chargeDeclined. Stripe: a payment method id (pm_...).',
    }),
  },
  { additionalProperties: false },
);

/** A named schema (`Payment` in the OpenAPI document). */
export const PaymentJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    amount: Type.Number({
      exclusiveMinimum: 0,
      multipleOf: 0.01,
      description: "What was charged, in the currency unit: the order's price.",
    }),
    currency: Type.String({ minLength: 3, maxLength: 3, description: 'ISO 4217 code, lower case (usd).' }),
    status: Type.Literal(PaymentStatus.Succeeded),
  },
  { $id: 'Payment' },
);

export async function createPaymentRoute(
  app: HttpApp,
  _context: ServiceContext,
  deps: Omit<PaymentsDeps, 'logger'>,
): Promise<void> {
  app.post(
    '/api/payments',
    {
      schema: {
        operationId: 'createPayment',
        summary: "Pay for one of your orders awaiting payment; charges the order's price",
        tags: ['payments'],
        security: SESSION_REQUIRED,
        body: Body,
        response: {
          201: success(
            PaymentJson,
            "Paid: the order's price was charged and the order completes; `payment:created` is published",
          ),
          ...errorResponses({
            400: 'The card was declined (field `token`), the reservation is not confirmed yet (field `orderId`, after waiting up to 3 s), or the order is cancelled, expired, paid or being paid, or an invalid body',
            401: 'Not signed in, or not the buyer of the order',
            404: 'No order has this id (one placed a moment ago is waited for, up to 3 s)',
            503: 'The payment provider is unavailable; nothing was charged yet, try again shortly',
          }),
        },
      },
    },
    async (request, reply) => {
      const payment = await payForOrder({ ...deps, logger: request.log }, requireUser(request), request.body);
      return reply.status(201).send({
        id: payment.id,
        orderId: payment.orderId,
        amount: fromCents(payment.amountCents),
        currency: deps.currency,
        status: payment.status,
      });
    },
  );
}
