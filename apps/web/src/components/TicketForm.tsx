/**
 * Title, price and face value of a ticket, and where and when its event is: listing a new one and
 * editing your own. Amounts are
 * typed as text and shown to two decimals once the field is left ("35.5" → "35.50"); they are
 * checked here with the API's own rules first, and whatever the API still refuses (a price above
 * what the face value allows) lands beside its input. The face value may be left empty when
 * listing: the API takes the price for it.
 */
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { focusFirstInvalid, hasErrors, noErrors, sortErrors, type FormErrorState } from '../form-errors.ts';
import type { TicketInput } from '../api.ts';
import { formatPriceInput, parsePrice } from '../format.ts';
import { Field, FormErrors } from './Field.tsx';
import { refusedTitleCharacter, refusedTitleMessage } from '../title-characters.ts';

export const MAX_TITLE_LENGTH = 200;

interface TicketFormProps {
  submitLabel: string;
  busyLabel: string;
  initial?: {
    title: string;
    price: number;
    faceValue: number;
    venue?: string;
    city?: string;
    startsAt?: string;
  };
  /** The event and the face value can no longer change: the ticket has been sold before. */
  fixed?: boolean;
  /** Disables every input, with `notice` saying why. */
  disabled?: boolean;
  notice?: ReactNode;
  onSubmit: (input: TicketInput) => Promise<void>;
}

const FIELDS = ['title', 'price', 'faceValue', 'venue', 'city', 'startsAt'];

/** An ISO-8601 time as a `datetime-local` input shows it, in the reader's time zone. */
function localInput(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function check(
  title: string,
  priceText: string,
  faceValueText: string,
  startsAtText: string,
  editing: boolean,
): FormErrorState {
  const fields: Record<string, string[]> = {};
  const trimmed = title.trim();
  if (trimmed === '') fields.title = ['Enter a title'];
  // Characters as the server counts them (code points): an emoji is one.
  else if ([...trimmed].length > MAX_TITLE_LENGTH)
    fields.title = [`Keep the title to ${MAX_TITLE_LENGTH} characters`];
  else {
    const refused = refusedTitleCharacter(trimmed);
    if (refused !== undefined) fields.title = [refusedTitleMessage(refused)];
  }
  const price = parsePrice(priceText);
  if ('error' in price) fields.price = [price.error];
  // Optional for a new ticket only: an edit that left it empty would not say what to keep.
  if (faceValueText.trim() !== '' || editing) {
    const faceValue = parsePrice(faceValueText, 'face value');
    if ('error' in faceValue) fields.faceValue = [faceValue.error];
  }
  if (startsAtText !== '') {
    const startsAt = Date.parse(startsAtText);
    if (Number.isNaN(startsAt)) fields.startsAt = ['Enter a date and a time'];
    else if (startsAt <= Date.now()) fields.startsAt = ['The event must start in the future'];
  }
  return { fields, general: [] };
}

export function TicketForm({
  submitLabel,
  busyLabel,
  initial,
  fixed,
  disabled,
  notice,
  onSubmit,
}: TicketFormProps) {
  const formRef = useRef<HTMLFormElement>(null);
  const [title, setTitle] = useState(initial?.title ?? '');
  const [priceText, setPriceText] = useState(initial ? initial.price.toFixed(2) : '');
  const [faceValueText, setFaceValueText] = useState(initial ? initial.faceValue.toFixed(2) : '');
  const [venue, setVenue] = useState(initial?.venue ?? '');
  const [city, setCity] = useState(initial?.city ?? '');
  const [startsAtText, setStartsAtText] = useState(localInput(initial?.startsAt));
  const [errors, setErrors] = useState<FormErrorState>(noErrors);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problems = check(title, priceText, faceValueText, fixed ? '' : startsAtText, initial !== undefined);
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(formRef.current);
    const parsed = parsePrice(priceText);
    if (!('price' in parsed)) return;
    setPriceText(parsed.price.toFixed(2));
    const input: TicketInput = { title: title.trim(), price: parsed.price };
    const faceValue = faceValueText.trim() === '' ? undefined : parsePrice(faceValueText);
    if (faceValue && 'price' in faceValue) {
      setFaceValueText(faceValue.price.toFixed(2));
      // Sent only when it says something new: a sold ticket's face value is fixed, and repeating it
      // costs nothing but a chance to be refused.
      if (faceValue.price !== initial?.faceValue) input.faceValue = faceValue.price;
    }
    // The event, when it is given and may change; left out, the API keeps what the ticket has.
    if (!fixed) {
      if (venue.trim() !== '') input.venue = venue.trim();
      if (city.trim() !== '') input.city = city.trim();
      if (startsAtText !== '') input.startsAt = new Date(startsAtText).toISOString();
    }
    setBusy(true);
    try {
      await onSubmit(input);
    } catch (error) {
      setErrors(sortErrors(error, FIELDS));
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
          readOnly={fixed}
          hint={fixed ? 'Fixed once the ticket has been sold.' : undefined}
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
        <Field
          label="Face value"
          name="faceValue"
          prefix="$"
          inputMode="decimal"
          value={faceValueText}
          placeholder={initial ? '0.00' : 'Same as the price'}
          autoComplete="off"
          readOnly={fixed}
          errors={errors.fields.faceValue}
          hint={
            fixed
              ? 'Fixed once the ticket has been sold.'
              : initial
                ? 'The price printed on the ticket: no one can ask more than it allows, now or on resale.'
                : 'Optional: the price printed on the ticket, when it is not your price. No one can ask more than it allows, now or on resale.'
          }
          onChange={(event) => setFaceValueText(event.target.value)}
          onBlur={() => setFaceValueText(formatPriceInput(faceValueText))}
        />
        <Field
          label="Venue"
          name="venue"
          value={venue}
          maxLength={200}
          placeholder="Optional, e.g. Olympia"
          autoComplete="off"
          readOnly={fixed}
          hint={fixed ? 'Fixed once the ticket has been sold.' : undefined}
          errors={errors.fields.venue}
          onChange={(event) => setVenue(event.target.value)}
        />
        <Field
          label="City"
          name="city"
          value={city}
          maxLength={100}
          placeholder="Optional, e.g. Paris"
          autoComplete="address-level2"
          readOnly={fixed}
          hint={fixed ? 'Fixed once the ticket has been sold.' : undefined}
          errors={errors.fields.city}
          onChange={(event) => setCity(event.target.value)}
        />
        <Field
          label="Starts at"
          name="startsAt"
          type="datetime-local"
          value={startsAtText}
          readOnly={fixed}
          errors={errors.fields.startsAt}
          hint={
            fixed
              ? 'Fixed once the ticket has been sold.'
              : 'Optional, in your time zone. The listing ends when the event starts, and no reservation lasts past it.'
          }
          onChange={(event) => setStartsAtText(event.target.value)}
        />
        <button type="submit" className="button button-primary">
          {busy ? busyLabel : submitLabel}
        </button>
      </fieldset>
    </form>
  );
}
