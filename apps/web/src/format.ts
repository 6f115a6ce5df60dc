/** Money and time as people read them. Prices are currency units (35.5) throughout the API. */

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** 35.5 → "$35.50". */
export const formatMoney = (amount: number): string => dollars.format(amount);

export const MAX_PRICE = 1_000_000;

/**
 * Reads what a person typed as a price ("35.5", "$1,200", " 35.50 ") into currency units, or an
 * explanation of what is wrong with it, using the same rules as the API (> 0, at most 2 decimals).
 */
export function parsePrice(text: string): { price: number } | { error: string } {
  const typed = text.trim().replace(/^\$/, '').trim();
  // Commas only as thousands separators ("1,200"): "12,50" is twelve and a half to some, and
  // reading it as 1,250 would list the ticket at 100 times its price.
  if (typed.includes(',') && !/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(typed))
    return { error: 'Use a dot for cents, like 12.50 (commas only between thousands)' };
  const cleaned = typed.replace(/,/g, '');
  if (cleaned === '') return { error: 'Enter a price' };
  if (!/^\d*\.?\d*$/.test(cleaned) || cleaned === '.')
    return { error: 'Enter the price as a number, like 35.50' };
  if (/\.\d{3,}$/.test(cleaned)) return { error: 'Use at most two decimals (cents)' };
  const price = Number(cleaned);
  if (!(price > 0)) return { error: 'The price must be more than $0.00' };
  if (price > MAX_PRICE) return { error: `The price can be at most ${formatMoney(MAX_PRICE)}` };
  return { price };
}

/** "35.5" → "35.50" when it is a valid price; otherwise what was typed, untouched. */
export function formatPriceInput(text: string): string {
  const parsed = parsePrice(text);
  return 'price' in parsed ? parsed.price.toFixed(2) : text;
}

/** Milliseconds left → "14:59", or "1:02:03" from an hour up. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const ss = String(seconds).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}
