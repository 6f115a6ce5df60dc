/**
 * Puts an owned ticket that is not for sale (bought, or withdrawn) back on sale. The most it may
 * be listed at is said before anything is typed, and a price above it is refused here first, in
 * the same words; the API's own refusal, or any other, lands beside the price all the same.
 */
import { useId, useRef, useState, type FormEvent } from 'react';
import { api, type Ticket } from '../api.ts';
import { focusFirstInvalid, noErrors, sortErrors, type FormErrorState } from '../form-errors.ts';
import { describeCap, formatMoney, formatPriceInput, parsePrice, toCents } from '../format.ts';
import { Field, FormErrors } from './Field.tsx';

interface SellAgainFormProps {
  ticket: Ticket;
  onListed: (ticket: Ticket) => void;
}

export function SellAgainForm({ ticket, onListed }: SellAgainFormProps) {
  const headingId = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const [priceText, setPriceText] = useState('');
  const [errors, setErrors] = useState<FormErrorState>(noErrors);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = parsePrice(priceText);
    const problem =
      'error' in parsed
        ? parsed.error
        : toCents(parsed.price) > toCents(ticket.maxPrice)
          ? `${describeCap(ticket).replace(/\.$/, '')}, not ${formatMoney(parsed.price)}.`
          : undefined;
    if (problem || !('price' in parsed)) {
      setErrors({ fields: { price: [problem ?? 'Enter a price'] }, general: [] });
      return focusFirstInvalid(formRef.current);
    }
    setPriceText(parsed.price.toFixed(2));
    setErrors(noErrors);
    setBusy(true);
    try {
      onListed(await api.listTicket(ticket.id, parsed.price));
    } catch (error) {
      setErrors(sortErrors(error, ['price']));
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      ref={formRef}
      className="stack sell-again"
      aria-labelledby={headingId}
      onSubmit={(event) => void submit(event)}
      noValidate
    >
      <h3 id={headingId}>Sell again</h3>
      <FormErrors messages={errors.general} />
      <fieldset className="stack plain-fieldset" disabled={busy}>
        <Field
          label="Asking price"
          name="price"
          prefix="$"
          inputMode="decimal"
          value={priceText}
          placeholder="0.00"
          autoComplete="off"
          hint={describeCap(ticket)}
          errors={errors.fields.price}
          onChange={(event) => setPriceText(event.target.value)}
          onBlur={() => setPriceText(formatPriceInput(priceText))}
        />
        <button type="submit" className="button button-primary">
          {busy ? 'Listing…' : 'List for sale'}
        </button>
      </fieldset>
    </form>
  );
}
