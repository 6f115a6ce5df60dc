/**
 * The Stripe provider through the official SDK, against a local HTTP stand-in for the two Stripe
 * endpoints it calls (no network here), reached through the SDK's own host/port/protocol settings.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripePaymentProvider } from '../src/providers/stripe-provider.ts';
import { PaymentDeclinedError } from '../src/providers/payment-provider.ts';

interface Recorded {
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  form: URLSearchParams;
}

describe('StripePaymentProvider', () => {
  const requests: Recorded[] = [];
  const intentsByKey = new Map<string, string>();
  let server: http.Server;
  let provider: StripePaymentProvider;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const key = req.headers['idempotency-key'] as string | undefined;
        requests.push({
          path: req.url!,
          idempotencyKey: key,
          authorization: req.headers.authorization,
          form,
        });
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/v1/payment_intents') {
          if (form.get('payment_method_data[card][token]') === 'tok_chargeDeclined') {
            res.statusCode = 402;
            res.end(
              JSON.stringify({
                error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' },
              }),
            );
            return;
          }
          // Like Stripe: the same idempotency key returns the same PaymentIntent.
          const id = (key && intentsByKey.get(key)) ?? `pi_${requests.length}`;
          if (key) intentsByKey.set(key, id);
          res.end(
            JSON.stringify({
              id,
              object: 'payment_intent',
              status: 'succeeded',
              amount: Number(form.get('amount')),
            }),
          );
          return;
        }
        if (req.method === 'POST' && req.url === '/v1/refunds') {
          res.end(JSON.stringify({ id: 're_1', object: 'refund', status: 'succeeded' }));
          return;
        }
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'unknown endpoint' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    provider = new StripePaymentProvider({
      secretKey: 'sk_test_standin',
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      protocol: 'http',
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('confirms a PaymentIntent for the amount in cents, with the idempotency key', async () => {
    const { chargeId } = await provider.charge({
      amountCents: 3550,
      currency: 'usd',
      token: 'tok_visa',
      idempotencyKey: 'order-1-payment-a',
      orderId: 'order-1',
    });
    expect(chargeId).toMatch(/^pi_/);
    const request = requests.at(-1)!;
    expect(request.path).toBe('/v1/payment_intents');
    expect(request.authorization).toBe('Bearer sk_test_standin');
    expect(request.idempotencyKey).toBe('order-1-payment-a');
    expect(request.form.get('amount')).toBe('3550');
    expect(request.form.get('currency')).toBe('usd');
    expect(request.form.get('confirm')).toBe('true');
    expect(request.form.get('metadata[orderId]')).toBe('order-1');
  });

  it('charges once for a retried attempt (same key, same PaymentIntent)', async () => {
    const request = {
      amountCents: 100,
      currency: 'usd',
      token: 'tok_visa',
      idempotencyKey: 'order-2-payment-b',
      orderId: 'order-2',
    };
    const first = await provider.charge(request);
    const second = await provider.charge(request);
    expect(second.chargeId).toBe(first.chargeId);
  });

  it('passes a Stripe.js payment method id through as is', async () => {
    await provider.charge({
      amountCents: 100,
      currency: 'usd',
      token: 'pm_card_visa',
      idempotencyKey: 'k3',
      orderId: 'o3',
    });
    expect(requests.at(-1)!.form.get('payment_method')).toBe('pm_card_visa');
  });

  it('turns a card error into a decline with Stripe’s message', async () => {
    await expect(
      provider.charge({
        amountCents: 100,
        currency: 'usd',
        token: 'tok_chargeDeclined',
        idempotencyKey: 'k4',
        orderId: 'o4',
      }),
    ).rejects.toEqual(new PaymentDeclinedError('Your card was declined.'));
  });

  it('refunds a PaymentIntent with its own idempotency key', async () => {
    await provider.refund('pi_9', 'refund-payment-9');
    const request = requests.at(-1)!;
    expect(request.path).toBe('/v1/refunds');
    expect(request.form.get('payment_intent')).toBe('pi_9');
    expect(request.idempotencyKey).toBe('refund-payment-9');
  });
});
