/** Money and time as people read them. Prices are currency units (35.5) throughout the API. */

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** 35.5 → "$35.50". */
export const formatMoney = (amount: number): string => dollars.format(amount);

export const MAX_PRICE = 1_000_000;

/**
 * Reads what a person typed as a price ("35.5", "$1,200", " 35.50 ") into currency units, or an
 * explanation of what is wrong with it, using the same rules as the API (> 0, at most 2 decimals).
 * `noun` names the amount in the explanations ("face value").
 */
export function parsePrice(text: string, noun = 'price'): { price: number } | { error: string } {
  const typed = text.trim().replace(/^\$/, '').trim();
  // Commas only as thousands separators ("1,200"): "12,50" is twelve and a half to some, and
  // reading it as 1,250 would list the ticket at 100 times its price.
  if (typed.includes(',') && !/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(typed))
    return { error: 'Use a dot for cents, like 12.50 (commas only between thousands)' };
  const cleaned = typed.replace(/,/g, '');
  if (cleaned === '') return { error: `Enter a ${noun}` };
  if (!/^\d*\.?\d*$/.test(cleaned) || cleaned === '.')
    return { error: `Enter the ${noun} as a number, like 35.50` };
  if (/\.\d{3,}$/.test(cleaned)) return { error: 'Use at most two decimals (cents)' };
  const price = Number(cleaned);
  if (!(price > 0)) return { error: `The ${noun} must be more than $0.00` };
  if (price > MAX_PRICE) return { error: `The ${noun} can be at most ${formatMoney(MAX_PRICE)}` };
  return { price };
}

/** Whole cents, to compare amounts that arrive as floating-point currency units (55.00000000000001). */
export const toCents = (amount: number): number => Math.round(amount * 100);

/**
 * The most a ticket may be listed at, in a seller's words: "You can ask up to $50.00, its face
 * value", or with the marketplace's markup "…up to $55.00, its face value of $50.00 plus 10%".
 */
export function describeCap(ticket: { faceValue: number; maxPrice: number }): string {
  const cap = formatMoney(ticket.maxPrice);
  if (toCents(ticket.maxPrice) <= toCents(ticket.faceValue))
    return `You can ask up to ${cap}, its face value.`;
  const markup = Math.round((ticket.maxPrice / ticket.faceValue - 1) * 1000) / 10;
  return `You can ask up to ${cap}, its face value of ${formatMoney(ticket.faceValue)} plus ${markup}%.`;
}

/** "35.5" → "35.50" when it is a valid price; otherwise what was typed, untouched. */
export function formatPriceInput(text: string): string {
  const parsed = parsePrice(text);
  return 'price' in parsed ? parsed.price.toFixed(2) : text;
}

/**
 * Milliseconds left, with their units, as a countdown says them: "14 min 59 s", "59 s",
 * "1 h 2 min 3 s" (a second that has begun counts whole: "1 s" lasts until the very end).
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours} h ${minutes} min ${seconds} s`;
  return minutes > 0 ? `${minutes} min ${seconds} s` : `${seconds} s`;
}

const eventDay = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
const eventTime = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

/** When an event starts, as a listing says it: "Sat 12 Dec, 20:00" (in the reader's time zone). */
export function formatEventStart(iso: string): string {
  const date = new Date(iso);
  return `${eventDay.format(date).replace(',', '')}, ${eventTime.format(date)}`;
}

/** Where and when, on one line: "Sat 12 Dec, 20:00 · Olympia, Paris"; empty when nothing is known. */
export function describeEvent(ticket: { venue?: string; city?: string; startsAt?: string }): string {
  const place = [ticket.venue, ticket.city].filter(Boolean).join(', ');
  return [ticket.startsAt && formatEventStart(ticket.startsAt), place].filter(Boolean).join(' · ');
}

/** How soon an event starts, in words: "starts in 3 days", "starts in 2 hours", "started". */
export function startsIn(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (ms <= 0) return 'started';
  const minutes = Math.round(ms / 60_000);
  const hours = Math.round(ms / 3_600_000);
  // Days as a calendar counts them: an event on Thursday evening starts in 3 days on Monday.
  const day = (time: number) => new Date(time).setHours(0, 0, 0, 0);
  const days = Math.round((day(Date.parse(iso)) - day(now)) / 86_400_000);
  if (minutes < 60) return `starts in ${plural(Math.max(1, minutes), 'minute')}`;
  if (hours < 36) return `starts in ${plural(hours, 'hour')}`;
  return `starts in ${plural(days, 'day')}`;
}

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;

/** A length of time in seconds, in words: 900 → "15 minutes", 90 → "1 minute 30 seconds". */
export function formatWindow(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = [
    hours > 0 ? plural(hours, 'hour') : '',
    minutes > 0 ? plural(minutes, 'minute') : '',
    seconds > 0 ? plural(seconds, 'second') : '',
  ];
  return parts.filter(Boolean).join(' ') || plural(0, 'second');
}

/**
 * An order's number as people read it and quote it: the first 8 hex digits of its UUID, upper
 * case ("7A7A7A7A"). The same on every page that shows the order, and on its receipt.
 */
export const orderNumber = (orderId: string): string => orderId.replace(/-/g, '').slice(0, 8).toUpperCase();

const dateAndTime = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});

/** An ISO date-time in the reader's time zone: "Nov 21, 2025, 10:15 AM". */
export const formatDateTime = (iso: string): string => dateAndTime.format(new Date(iso));
