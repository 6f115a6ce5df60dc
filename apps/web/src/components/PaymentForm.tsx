/**
 * Paying for an order. With the built-in test provider (development, tests) the person picks one
 * of the simulated cards in plain words; with Stripe, Stripe's card element. Either way the API
 * gets `{ orderId, token }`; a declined card is shown beside the card, said through the page's live
 * region, and the order stays payable.
 */
import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import { useAnnounce } from '../a11y.tsx';
import { api, ApiError, type PaymentConfig } from '../api.ts';
import { focusFirstInvalid, noErrors, sortErrors, type FormErrorState } from '../form-errors.ts';
import { formatMoney } from '../format.ts';
import { FormErrors } from './Field.tsx';
import { StripeCard, type CreateToken } from './StripeCard.tsx';

interface PaymentFormProps {
  orderId: string;
  amount: number;
  config: PaymentConfig;
  /** Called once the API accepted the payment (the order completes a moment later). */
  onPaid: () => void;
}

export function PaymentForm({ orderId, amount, config, onPaid }: PaymentFormProps) {
  const formRef = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FormErrorState>(noErrors);
  const [paying, setPaying] = useState(false);
  const [testCard, setTestCard] = useState(config.provider === 'test' ? config.testCards.success : '');
  const [createStripeToken, setCreateStripeToken] = useState<CreateToken | null>(null);
  const onStripeReady = useCallback((create: CreateToken | null) => setCreateStripeToken(() => create), []);
  const cardErrorId = useId();
  const announce = useAnnounce();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setErrors(noErrors);
    setPaying(true);
    try {
      let token = testCard;
      if (config.provider === 'stripe') {
        if (!createStripeToken) throw new Error('The card form is still loading.');
        token = await createStripeToken();
      }
      await api.pay({ orderId, token });
      onPaid();
    } catch (error) {
      // Stripe.js failures (an incomplete card number...) are about the card too.
      const sorted =
        error instanceof Error && !(error instanceof ApiError)
          ? { fields: { token: [error.message] }, general: [] }
          : sortErrors(error, ['token']);
      setErrors(sorted);
      // Focus goes to the card (its error is tied to the group); the error is said as well, as
      // a screen reader may read only the card's name with it.
      announce([...sorted.general, ...(sorted.fields.token ?? [])].join(' '), 'assertive');
      focusFirstInvalid(formRef.current);
    } finally {
      setPaying(false);
    }
  }

  const cardErrors = errors.fields.token ?? [];
  const stripeUnconfigured = config.provider === 'stripe' && !config.stripePublishableKey;

  return (
    <form ref={formRef} className="payment-form" onSubmit={(event) => void onSubmit(event)} noValidate>
      <FormErrors messages={errors.general} />
      {config.provider === 'test' ? (
        <fieldset
          className={`field choice-group${cardErrors.length > 0 ? ' field-invalid' : ''}`}
          aria-invalid={cardErrors.length > 0 || undefined}
          aria-describedby={cardErrors.length > 0 ? cardErrorId : undefined}
        >
          <legend>Card</legend>
          <p className="test-mode-note">
            <strong>Test mode.</strong> Payments here are simulated: pick a test card, no real money moves.
          </p>
          <label className="choice">
            <input
              type="radio"
              name="test-card"
              value={config.testCards.success}
              checked={testCard === config.testCards.success}
              onChange={() => setTestCard(config.testCards.success)}
            />
            <span>Test card that succeeds</span>
          </label>
          <label className="choice">
            <input
              type="radio"
              name="test-card"
              value={config.testCards.declined}
              checked={testCard === config.testCards.declined}
              onChange={() => setTestCard(config.testCards.declined)}
            />
            <span>Test card that is declined</span>
          </label>
          {cardErrors.length > 0 && (
            <p id={cardErrorId} className="field-error">
              {cardErrors.join(' ')}
            </p>
          )}
        </fieldset>
      ) : stripeUnconfigured ? (
        <div className="alert alert-error" role="alert">
          Card payments are not set up on this marketplace yet (no Stripe publishable key).
        </div>
      ) : (
        <StripeCard
          publishableKey={config.stripePublishableKey ?? ''}
          onReady={onStripeReady}
          {...(cardErrors.length > 0 ? { error: cardErrors.join(' ') } : {})}
        />
      )}
      <div className="payment-total">
        <span>Total</span>
        <strong>{formatMoney(amount)}</strong>
      </div>
      <button
        type="submit"
        className="button button-primary button-block"
        disabled={paying || stripeUnconfigured}
      >
        {paying ? 'Paying…' : 'Pay'}
      </button>
    </form>
  );
}
