/**
 * The home page's search: words, city, dates, price range and sort. What it searches for lives in
 * the page's address (`/?q=mahler&city=paris&sort=price`), so a search can be shared, bookmarked
 * and gone back to. Dates are whole days in the reader's time zone; prices are typed as on the
 * sell page. What is wrong is said beside its field before anything is sent.
 */
import { useRef, useState, type FormEvent } from 'react';
import { SORTS, type Sort, type TicketSearch } from '../api.ts';
import { focusFirstInvalid } from '../form-errors.ts';
import { parsePrice } from '../format.ts';
import { Field } from './Field.tsx';
import './SearchForm.css';

/** The search's fields as the address holds them: text, as typed (dates as YYYY-MM-DD). */
export interface SearchFields {
  q: string;
  city: string;
  from: string;
  to: string;
  minPrice: string;
  maxPrice: string;
  sort: Sort;
}

const TEXT_FIELDS = ['q', 'city', 'from', 'to', 'minPrice', 'maxPrice'] as const;

const SORT_LABELS: Record<Sort, string> = {
  newest: 'Newest listings',
  price: 'Lowest price',
  startsAt: 'Soonest event',
};

export function fieldsFromParams(params: URLSearchParams): SearchFields {
  const sort = params.get('sort');
  return {
    ...(Object.fromEntries(TEXT_FIELDS.map((name) => [name, params.get(name) ?? ''])) as Omit<
      SearchFields,
      'sort'
    >),
    sort: SORTS.includes(sort as Sort) ? (sort as Sort) : 'newest',
  };
}

/** The fields worth putting in the address: those filled in, and the sort unless it is the default. */
export function paramsFromFields(fields: SearchFields): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of TEXT_FIELDS) if (fields[name].trim() !== '') params.set(name, fields[name].trim());
  if (fields.sort !== 'newest') params.set('sort', fields.sort);
  return params;
}

/** The fields with nothing filled in, keeping the sort: the search cleared. */
export const clearedFields = (fields: SearchFields): SearchFields => ({
  ...fieldsFromParams(new URLSearchParams()),
  sort: fields.sort,
});

/** Whether the fields ask for anything narrower than every ticket. */
export const isFiltered = (fields: SearchFields) => TEXT_FIELDS.some((name) => fields[name].trim() !== '');

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The API's search for valid fields: a day from its first moment to its last, in local time. */
export function searchOf(fields: SearchFields): TicketSearch {
  const amount = (text: string) => {
    const parsed = text.trim() === '' ? undefined : parsePrice(text);
    return parsed && 'price' in parsed ? parsed.price : undefined;
  };
  const day = (text: string, time: string) =>
    DAY.test(text) ? new Date(`${text}T${time}`).toISOString() : undefined;
  return {
    q: fields.q.trim() || undefined,
    city: fields.city.trim() || undefined,
    from: day(fields.from, '00:00:00'),
    to: day(fields.to, '23:59:59.999'),
    minPrice: amount(fields.minPrice),
    maxPrice: amount(fields.maxPrice),
    sort: fields.sort,
  };
}

/** What is wrong with the fields, by field name; empty when they can be searched for. */
export function checkSearch(fields: SearchFields): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [name, noun] of [
    ['minPrice', 'lowest price'],
    ['maxPrice', 'highest price'],
  ] as const) {
    if (fields[name].trim() === '') continue;
    const parsed = parsePrice(fields[name], noun);
    if ('error' in parsed) problems[name] = parsed.error;
  }
  const search = searchOf(fields);
  if (search.minPrice !== undefined && search.maxPrice !== undefined && search.minPrice > search.maxPrice) {
    problems.maxPrice = 'The highest price must not be below the lowest';
  }
  if (search.from && search.to && search.from > search.to)
    problems.to = 'The last day must not be before the first';
  return problems;
}

export function SearchForm({
  initial,
  onSearch,
}: {
  initial: SearchFields;
  onSearch: (fields: SearchFields) => void;
}) {
  const formRef = useRef<HTMLFormElement>(null);
  const [fields, setFields] = useState(initial);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const set = (name: keyof SearchFields) => (event: { target: { value: string } }) =>
    setFields((current) => ({ ...current, [name]: event.target.value }));
  const errorsOf = (name: string) => (problems[name] ? [problems[name]] : undefined);

  function search(next: SearchFields) {
    const found = checkSearch(next);
    setProblems(found);
    if (Object.keys(found).length > 0) return focusFirstInvalid(formRef.current);
    onSearch(next);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    search(fields);
  }

  return (
    <form
      ref={formRef}
      role="search"
      aria-label="Tickets"
      className="search-form"
      onSubmit={submit}
      noValidate
    >
      <div className="search-main">
        <Field
          label="Search"
          name="q"
          type="search"
          value={fields.q}
          placeholder="Artist, event or venue"
          autoComplete="off"
          maxLength={200}
          onChange={set('q')}
        />
        <Field
          label="City"
          name="city"
          value={fields.city}
          placeholder="Any city"
          autoComplete="address-level2"
          maxLength={100}
          onChange={set('city')}
        />
      </div>
      <div className="search-filters">
        <Field
          label="From"
          name="from"
          type="date"
          value={fields.from}
          errors={errorsOf('from')}
          onChange={set('from')}
        />
        <Field
          label="To"
          name="to"
          type="date"
          value={fields.to}
          errors={errorsOf('to')}
          onChange={set('to')}
        />
        <Field
          label="Lowest price"
          name="minPrice"
          prefix="$"
          inputMode="decimal"
          value={fields.minPrice}
          autoComplete="off"
          errors={errorsOf('minPrice')}
          onChange={set('minPrice')}
        />
        <Field
          label="Highest price"
          name="maxPrice"
          prefix="$"
          inputMode="decimal"
          value={fields.maxPrice}
          autoComplete="off"
          errors={errorsOf('maxPrice')}
          onChange={set('maxPrice')}
        />
        <div className="field">
          <label htmlFor="search-sort">Sort by</label>
          <select
            id="search-sort"
            name="sort"
            value={fields.sort}
            onChange={(event) => {
              const next = { ...fields, sort: event.target.value as Sort };
              setFields(next);
              search(next);
            }}
          >
            {SORTS.map((sort) => (
              <option key={sort} value={sort}>
                {SORT_LABELS[sort]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="search-actions">
        <button type="submit" className="button button-primary">
          Search
        </button>
        {isFiltered(fields) && (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              const cleared = clearedFields(fields);
              setFields(cleared);
              setProblems({});
              onSearch(cleared);
            }}
          >
            Clear
          </button>
        )}
      </div>
    </form>
  );
}
