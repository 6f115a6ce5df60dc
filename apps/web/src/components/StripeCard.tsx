/**
 * Stripe's own card element, for when the marketplace runs with Stripe. Stripe.js is loaded from
 * js.stripe.com only on this path (never with the test provider), as Stripe requires. The card
 * becomes a PaymentMethod in the browser; only its id (`pm_...`) goes to our API.
 */
import { useEffect, useId, useRef, useState } from 'react';

interface StripeCardElement {
  mount(element: HTMLElement): void;
  destroy(): void;
  on(event: 'change', handler: (event: { error?: { message: string } }) => void): void;
}
interface StripeJs {
  elements(): { create(type: 'card', options?: object): StripeCardElement };
  createPaymentMethod(options: {
    type: 'card';
    card: StripeCardElement;
  }): Promise<{ paymentMethod?: { id: string }; error?: { message?: string } }>;
}
declare global {
  interface Window {
    Stripe?: (publishableKey: string) => StripeJs;
  }
}

let stripeScript: Promise<NonNullable<Window['Stripe']>> | undefined;

function loadStripeJs(): Promise<NonNullable<Window['Stripe']>> {
  stripeScript ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = 'https://js.stripe.com/v3/';
    script.async = true;
    script.onload = () =>
      window.Stripe ? resolve(window.Stripe) : reject(new Error('Stripe.js did not load'));
    script.onerror = () => {
      stripeScript = undefined;
      reject(new Error('Could not load Stripe. Check your connection and try again.'));
    };
    document.head.append(script);
  });
  return stripeScript;
}

/** Turns the card typed into Stripe's element into a PaymentMethod id. */
export type CreateToken = () => Promise<string>;

interface StripeCardProps {
  publishableKey: string;
  onReady: (createToken: CreateToken | null) => void;
  error?: string;
}

export function StripeCard({ publishableKey, onReady, error }: StripeCardProps) {
  const labelId = useId();
  const mountRef = useRef<HTMLDivElement>(null);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    let card: StripeCardElement | undefined;
    let live = true;
    loadStripeJs().then(
      (Stripe) => {
        if (!live || !mountRef.current) return;
        const stripe = Stripe(publishableKey);
        card = stripe.elements().create('card', { hidePostalCode: true });
        card.mount(mountRef.current);
        card.on('change', (event) => setProblem(event.error?.message));
        const element = card;
        onReady(async () => {
          const result = await stripe.createPaymentMethod({ type: 'card', card: element });
          if (!result.paymentMethod) throw new Error(result.error?.message ?? 'Your card could not be used.');
          return result.paymentMethod.id;
        });
      },
      (failure: Error) => live && setProblem(failure.message),
    );
    return () => {
      live = false;
      card?.destroy();
      onReady(null);
    };
  }, [publishableKey, onReady]);

  const message = error ?? problem;
  return (
    <div className={`field${message ? ' field-invalid' : ''}`}>
      <span className="label" id={labelId}>
        Card
      </span>
      <div ref={mountRef} className="stripe-card" aria-labelledby={labelId} />
      {message && <p className="field-error">{message}</p>}
    </div>
  );
}
