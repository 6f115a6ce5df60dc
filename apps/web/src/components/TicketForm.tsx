/**
 * Title and price of a ticket: listing a new one and editing your own. The price is typed as
 * text and shown to two decimals once the field is left ("35.5" → "35.50"); it is checked here
 * with the API's own rules first, and whatever the API still refuses lands beside its input.
 */
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { focusFirstInvalid, hasErrors, noErrors, sortErrors, type FormErrorState } from '../form-errors.ts';
import { formatPriceInput, parsePrice } from '../format.ts';
import { Field, FormErrors } from './Field.tsx';

export const MAX_TITLE_LENGTH = 200;

interface TicketFormProps {
  submitLabel: string;
  busyLabel: string;
  initial?: { title: string; price: number };
  /** Disables every input, with `notice` saying why. */
  disabled?: boolean;
  notice?: ReactNode;
  onSubmit: (input: { title: string; price: number }) => Promise<void>;
}

function check(title: string, priceText: string): FormErrorState {
  const fields: Record<string, string[]> = {};
  const trimmed = title.trim();
  if (trimmed === '') fields.title = ['Enter a title'];
  // Characters as the server counts them (code points): an emoji is one.
  else if ([...trimmed].length > MAX_TITLE_LENGTH)
    fields.title = [`Keep the title to ${MAX_TITLE_LENGTH} characters`];
  const price = parsePrice(priceText);
  if ('error' in price) fields.price = [price.error];
  return { fields, general: [] };
}

export function TicketForm({ submitLabel, busyLabel, initial, disabled, notice, onSubmit }: TicketFormProps) {
  const formRef = useRef<HTMLFormElement>(null);
  const [title, setTitle] = useState(initial?.title ?? '');
  const [priceText, setPriceText] = useState(initial ? initial.price.toFixed(2) : '');
  const [errors, setErrors] = useState<FormErrorState>(noErrors);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problems = check(title, priceText);
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(formRef.current);
    const parsed = parsePrice(priceText);
    if (!('price' in parsed)) return;
    setPriceText(parsed.price.toFixed(2));
    setBusy(true);
    try {
      await onSubmit({ title: title.trim(), price: parsed.price });
    } catch (error) {
      setErrors(sortErrors(error, ['title', 'price']));
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form ref={formRef} className="stack" onSubmit={(event) => void submit(event)} noValidate>
      {notice}
      <FormErrors messages={errors.general} />
      <fieldset className="stack plain-fieldset" disabled={disabled || busy}>
        <Field
          label="Title"
          name="title"
          value={title}
          // The browser counts UTF-16 units: room for 200 characters of any kind, and some spaces.
          maxLength={MAX_TITLE_LENGTH * 2 + 50}
          placeholder="e.g. The National, Friday, floor standing"
          autoComplete="off"
          errors={errors.fields.title}
          onChange={(event) => setTitle(event.target.value)}
        />
        <Field
          label="Price"
          name="price"
          prefix="$"
          inputMode="decimal"
          value={priceText}
          placeholder="0.00"
          autoComplete="off"
          errors={errors.fields.price}
          hint="What the buyer pays, in US dollars."
          onChange={(event) => setPriceText(event.target.value)}
          onBlur={() => setPriceText(formatPriceInput(priceText))}
        />
        <button type="submit" className="button button-primary">
          {busy ? busyLabel : submitLabel}
        </button>
      </fieldset>
    </form>
  );
}
