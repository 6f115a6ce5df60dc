import { Type } from 'typebox';
import { fromCents, requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
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

const PaymentJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  orderId: Type.String({ format: 'uuid' }),
  amount: Type.Number({ description: "What was charged, in the currency unit: the order's price" }),
  currency: Type.String({ description: 'ISO 4217 code, lower case (usd)' }),
  status: Type.Literal('succeeded'),
});

export async function createPaymentRoute(
  app: HttpApp,
  _context: ServiceContext,
  deps: Omit<PaymentsDeps, 'logger'>,
): Promise<void> {
  app.post(
    '/api/payments',
    {
      schema: {
        summary: "Pay for one of your orders awaiting payment; charges the order's price",
        tags: ['payments'],
        security: [{ session: [] }],
        body: Body,
        response: { 201: PaymentJson },
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
