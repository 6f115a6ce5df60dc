/**
 * `npm run seed`: fills a running marketplace with demo data through its public HTTP API, as a
 * person with a browser would: a handful of sellers (signed up, or signed in when they already
 * have accounts), a few dozen events in eight cities, on evenings over the next three months, and
 * a few hundred tickets for them at varied prices, never above their face value.
 *
 * Settings (environment): SEED_URL, the marketplace (http://localhost:3000); SEED_SCALE, how much
 * to make, 1 for 36 events and about 300 listings (0.25 makes a quarter of that; at most 10).
 *
 * What it makes is drawn from a pseudo-random generator with a fixed seed: the same on every run
 * of the same day (the dates count from the day it runs). Run again, it finds the listings each
 * seller already has and lists only the ones missing, so a second run adds nothing and says so;
 * a run that stopped half-way is finished by the next.
 *
 * Within the default rate limits: about 300 requests for the default size, a few per second
 * against a ceiling of 1,200 a minute per address (RATE_LIMIT_MAX). A request refused with 429 is
 * sent again after its `Retry-After` when that is a minute or less; a longer wait (the sign-up
 * and sign-in limits count per hour and per ten minutes) stops the run, naming the setting.
 */
import { pathToFileURL } from 'node:url';

export const DEFAULT_URL = 'http://localhost:3000';
/** The sellers' password: long enough, and not among the common passwords sign-up refuses. */
export const SELLER_PASSWORD = 'demo seller tickets 2024';
const LISTINGS_AT_ONCE = 4;
/** A 429 whose `Retry-After` is at most this is waited out; a longer one stops the run. */
const LONGEST_WAIT_SECONDS = 60;

/** A pseudo-random generator (mulberry32): numbers in [0, 1), the same sequence for the same seed. */
function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SELLERS = [
  { name: 'Amélie Durand', email: 'amelie.durand@seed.example.com' },
  { name: 'Oliver Bennett', email: 'oliver.bennett@seed.example.com' },
  { name: 'Jürgen Weiß', email: 'juergen.weiss@seed.example.com' },
  { name: 'Sanne de Vries', email: 'sanne.devries@seed.example.com' },
  { name: 'Núria Puig', email: 'nuria.puig@seed.example.com' },
  { name: 'Luca Bühler', email: 'luca.buehler@seed.example.com' },
];

/**
 * The cities, in the order events are spread over them, each with its time zone, its concert
 * halls (for the orchestras) and its clubs and theatres (for everyone else).
 */
const CITIES: { city: string; timeZone: string; halls: string[]; stages: string[] }[] = [
  {
    city: 'Paris',
    timeZone: 'Europe/Paris',
    halls: ['Philharmonie de Paris', 'Salle Pleyel'],
    stages: ['Olympia', 'Le Zénith', 'La Cigale', 'Le Bataclan'],
  },
  {
    city: 'London',
    timeZone: 'Europe/London',
    halls: ['Royal Albert Hall', 'Barbican Hall'],
    stages: ['O2 Academy Brixton', 'Roundhouse', 'Eventim Apollo'],
  },
  {
    city: 'Berlin',
    timeZone: 'Europe/Berlin',
    halls: ['Philharmonie Berlin', 'Konzerthaus'],
    stages: ['Columbiahalle', 'Tempodrom', 'Astra Kulturhaus'],
  },
  {
    city: 'Amsterdam',
    timeZone: 'Europe/Amsterdam',
    halls: ['Concertgebouw'],
    stages: ['Paradiso', 'Melkweg', 'Bitterzoet'],
  },
  {
    city: 'Barcelona',
    timeZone: 'Europe/Madrid',
    halls: ['Palau de la Música Catalana', "L'Auditori"],
    stages: ['Razzmatazz', 'Sala Apolo'],
  },
  {
    city: 'Köln',
    timeZone: 'Europe/Berlin',
    halls: ['Kölner Philharmonie'],
    stages: ['E-Werk', 'Palladium', 'Gloria Theater'],
  },
  {
    city: 'Zürich',
    timeZone: 'Europe/Zurich',
    halls: ['Tonhalle'],
    stages: ['Volkshaus', 'X-Tra', 'Kaufleuten'],
  },
  {
    city: 'Lyon',
    timeZone: 'Europe/Paris',
    halls: ['Auditorium de Lyon'],
    stages: ['Le Transbordeur', 'Radiant-Bellevue', 'Ninkasi Gerland'],
  },
];

/** Kinds of events: who performs, what the bill says, where, and the face values of their tickets. */
const KINDS: { acts: string[]; bills: string[]; in: 'halls' | 'stages'; faceValues: number[] }[] = [
  {
    acts: [
      'The Midnight Orchards',
      'Léa Marchetti',
      'Glass Harbour',
      'Los Caminos',
      'Northern Static',
      'Sœurs Lumière',
      'The Paper Kites Revue',
    ],
    bills: ['live', 'European tour', 'album release show', 'acoustic night'],
    in: 'stages',
    faceValues: [32, 38, 45, 49.5, 55, 65],
  },
  {
    acts: ['Orchestre Lumière', 'Amsterdam Sinfonietta Nova', 'Kammerorchester Süd', 'Quatuor Éclipse'],
    bills: ['Dvořák 9', 'Mahler 5', 'the late Beethoven quartets', 'Ravel & Debussy', 'Brahms 4'],
    in: 'halls',
    faceValues: [25, 35, 48, 60, 85, 120],
  },
  {
    acts: ['Maya Okafor', 'Jérôme Cassel', 'Tom Whitfield', 'Ingrid Sørensen'],
    bills: ['stand-up', 'work in progress', 'comedy special taping'],
    in: 'stages',
    faceValues: [18, 22, 25, 29.5],
  },
  {
    acts: ['DJ Kōsuke', 'Nachtschicht', 'Bassline Atelier', 'Señorita Disco'],
    bills: ['all night long', 'club night', 'after-hours'],
    in: 'stages',
    faceValues: [15, 20, 24, 30],
  },
];

/** What a seller adds to the title, by the kind of place (mostly nothing). */
const SECTIONS = {
  halls: ['', '', '', ' · stalls', ' · balcony', ' · circle, row C', ' · box 4'],
  stages: ['', '', '', ' · standing', ' · balcony', ' · floor', ' · seated, row F'],
};
const START_TIMES = [
  [19, 0],
  [19, 30],
  [20, 0],
  [20, 0],
  [20, 30],
  [21, 0],
] as const;
const DAY_MS = 86_400_000;

export interface PlannedEvent {
  title: string;
  venue: string;
  city: string;
  startsAt: string;
}

export interface PlannedListing {
  /** Index into SELLERS. */
  seller: number;
  title: string;
  price: number;
  faceValue: number;
  venue: string;
  city: string;
  startsAt: string;
}

/** The zone's offset from UTC at `at`, in minutes (60 for Paris in winter). */
function offsetMinutes(timeZone: string, at: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0; // "GMT" itself
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/** The instant it is `hour`:`minute` on the (UTC) day of `day` in `timeZone`. */
function localTime(day: number, hour: number, minute: number, timeZone: string): Date {
  const wall = day + (hour * 60 + minute) * 60_000;
  const first = wall - offsetMinutes(timeZone, wall) * 60_000;
  // Once more at the instant found, for a day on which the clocks change.
  return new Date(wall - offsetMinutes(timeZone, first) * 60_000);
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Down to the half unit: 41.37 → 41, 41.73 → 41.5. */
const toHalf = (amount: number) => Math.floor(amount * 2) / 2;

/**
 * What to make: the events (spread over the cities in turn, on evenings 1 to 90 days after
 * `today`) and their listings (5 to 14 each, in a shuffled order so the newest page mixes events),
 * each for one of the sellers. The same for the same `scale` and day.
 */
export function plan(
  scale: number,
  today = new Date(),
): { events: PlannedEvent[]; listings: PlannedListing[] } {
  const random = randomGenerator(20_240_611);
  const day = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const eventCount = Math.max(1, Math.round(36 * scale));
  const events: PlannedEvent[] = [];
  const listings: PlannedListing[] = [];
  const titles = new Set<string>();
  for (let i = 0; i < eventCount; i++) {
    const place = CITIES[i % CITIES.length]!;
    const { city, timeZone } = place;
    const kind = pick(random, KINDS);
    // Another bill when the city has this one already (a few tries: at a large scale, some repeat).
    let title = '';
    for (let attempt = 0; attempt < 5 && (!title || titles.has(`${title}|${city}`)); attempt++) {
      title = `${pick(random, kind.acts)}: ${pick(random, kind.bills)}`;
    }
    titles.add(`${title}|${city}`);
    const [hour, minute] = pick(random, START_TIMES);
    const inDays = 1 + Math.floor(random() * 90);
    const event = {
      title,
      venue: pick(random, place[kind.in]),
      city,
      startsAt: localTime(day + inDays * DAY_MS, hour, minute, timeZone).toISOString(),
    };
    events.push(event);
    const faceValue = pick(random, kind.faceValues);
    const count = 5 + Math.floor(random() * 10);
    for (let n = 0; n < count; n++) {
      // Some at a dearer tier; four in ten at face value, the rest up to a quarter below it.
      const face = random() < 0.25 ? toHalf(faceValue * 1.6) : faceValue;
      const price = random() < 0.4 ? face : Math.max(1, toHalf(face * (0.75 + random() * 0.25)));
      listings.push({
        seller: Math.floor(random() * SELLERS.length),
        title: `${event.title}${pick(random, SECTIONS[kind.in])}`,
        price,
        faceValue: face,
        venue: event.venue,
        city: event.city,
        startsAt: event.startsAt,
      });
    }
  }
  // Fisher–Yates, with the same generator.
  for (let i = listings.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [listings[i], listings[j]] = [listings[j]!, listings[i]!];
  }
  return { events, listings };
}

/** A refusal worth stopping for, said in a line. */
export class SeedError extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What raises each limit whose refusal names it (the start of its message). */
const LIMIT_SETTINGS: [RegExp, string][] = [
  [/sign-ups/i, 'SIGNUP_LIMIT_MAX'],
  [/sign-in attempts from this address/i, 'SIGNIN_ADDRESS_LIMIT_MAX'],
  [/sign-in attempts for this account/i, 'SIGNIN_ACCOUNT_FREE_ATTEMPTS'],
];

/**
 * A client of the API with a cookie jar, sending what a page of the marketplace's own site would:
 * JSON, its `Origin` on a write, the session cookie.
 */
class ApiClient {
  private cookie = '';
  constructor(
    private readonly base: URL,
    private readonly pause: Pause,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    for (;;) {
      await this.pause.over();
      const response = await fetch(new URL(path, this.base), {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(method === 'GET' ? {} : { origin: this.base.origin }),
          ...(this.cookie ? { cookie: this.cookie } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const session = response.headers
        .getSetCookie()
        .map((line) => line.split(';')[0]!)
        .find((pair) => pair.startsWith('session='));
      if (session) this.cookie = session;
      const text = await response.text();
      const json = (text ? JSON.parse(text) : undefined) as T;
      if (response.status !== 429) return { status: response.status, body: json };
      const seconds = Number(response.headers.get('retry-after') ?? '1');
      const message = errorMessage(json) ?? 'Too many requests';
      if (seconds > LONGEST_WAIT_SECONDS) {
        const setting = LIMIT_SETTINGS.find(([pattern]) => pattern.test(message))?.[1] ?? 'RATE_LIMIT_MAX';
        throw new SeedError(
          `${method} ${path}: ${message}. Run again in ${seconds} s, or start the marketplace with a higher ${setting}.`,
        );
      }
      this.pause.start(seconds, message);
    }
  }
}

/**
 * Every client's requests held back together after a 429: the ceiling counts the address, not
 * the seller, so each request sent meanwhile would be refused too.
 */
class Pause {
  private until = 0;
  constructor(private readonly say: (line: string) => void) {}

  start(seconds: number, message: string): void {
    const until = Date.now() + seconds * 1000;
    if (until <= this.until) return;
    if (this.until < Date.now()) {
      this.say(`rate limited (${message}): waiting ${seconds} s (RATE_LIMIT_MAX raises the ceiling)`);
    }
    this.until = until;
  }

  async over(): Promise<void> {
    while (Date.now() < this.until) await sleep(this.until - Date.now());
  }
}

function errorMessage(body: unknown): string | undefined {
  const errors = (body as { errors?: { message?: string }[] } | undefined)?.errors;
  return errors?.map((error) => error.message).join('; ');
}

/** Signs the seller in, or up when the account does not exist yet; true when it was new. */
async function signInOrUp(client: ApiClient, email: string): Promise<boolean> {
  const credentials = { email, password: SELLER_PASSWORD };
  const signIn = await client.request('POST', '/api/users/signin', credentials);
  if (signIn.status === 200) return false;
  if (signIn.status !== 400)
    throw new SeedError(`sign-in of ${email}: ${signIn.status} ${errorMessage(signIn.body)}`);
  const signUp = await client.request('POST', '/api/users/signup', credentials);
  if (signUp.status === 201) return true;
  throw new SeedError(
    `${email} has an account whose password is not the seed's, or cannot sign up: ${signUp.status} ${errorMessage(signUp.body)}`,
  );
}

interface TicketJson {
  title: string;
  price: number;
  venue?: string;
  city?: string;
}

const listingKey = (t: { title: string; price: number; venue?: string; city?: string }) =>
  JSON.stringify([t.title, t.price, t.venue ?? null, t.city ?? null]);

export interface SeedOptions {
  url: string;
  scale: number;
  say?: (line: string) => void;
}

export interface SeedSummary {
  sellers: number;
  newSellers: number;
  events: number;
  cities: number;
  added: number;
  /** Listings of the plan the sellers had already (from an earlier run). */
  found: number;
  seconds: number;
}

export async function seed({ url, scale, say = console.log }: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const base = new URL(url);
  const { events, listings } = plan(scale);
  const pause = new Pause(say);
  const clients = SELLERS.map(() => new ApiClient(base, pause));
  let newSellers = 0;
  let found = 0;
  const missing: { client: ApiClient; listing: PlannedListing }[] = [];
  for (const [index, seller] of SELLERS.entries()) {
    const client = clients[index]!;
    if (await signInOrUp(client, seller.email)) newSellers++;
    const mine = await client.request<{ tickets: TicketJson[] }>('GET', '/api/tickets/mine');
    if (mine.status !== 200) throw new SeedError(`GET /api/tickets/mine: ${mine.status}`);
    // What this seller already has of the plan (an earlier run's) is not listed again.
    const have = new Map<string, number>();
    for (const ticket of mine.body.tickets)
      have.set(listingKey(ticket), (have.get(listingKey(ticket)) ?? 0) + 1);
    for (const listing of listings.filter((l) => l.seller === index)) {
      const key = listingKey(listing);
      const count = have.get(key) ?? 0;
      if (count > 0) {
        have.set(key, count - 1);
        found++;
      } else missing.push({ client, listing });
    }
  }
  // In the plan's (shuffled) order, a few at a time.
  missing.sort((a, b) => listings.indexOf(a.listing) - listings.indexOf(b.listing));
  let next = 0;
  let added = 0;
  await Promise.all(
    Array.from({ length: LISTINGS_AT_ONCE }, async () => {
      while (next < missing.length) {
        const { client, listing } = missing[next++]!;
        const { seller: _seller, ...body } = listing;
        const response = await client.request('POST', '/api/tickets', body);
        if (response.status !== 201) {
          throw new SeedError(
            `listing "${listing.title}": ${response.status} ${errorMessage(response.body)}`,
          );
        }
        added++;
        if (added % 50 === 0) say(`listed ${added} of ${missing.length}`);
      }
    }),
  );
  return {
    sellers: SELLERS.length,
    newSellers,
    events: events.length,
    cities: new Set(events.map((event) => event.city)).size,
    added,
    found,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The summary, in a few lines. */
export function describeSummary(summary: SeedSummary, url: string): string {
  const again =
    summary.found > 0
      ? summary.added === 0
        ? `; all ${summary.found} were there from an earlier seed, nothing added`
        : `; ${summary.found} were there from an earlier seed`
      : '';
  return [
    `Seeded ${url} in ${summary.seconds.toFixed(1)} s:`,
    `  sellers   ${summary.sellers} (${summary.newSellers} signed up, ${summary.sellers - summary.newSellers} signed in)`,
    `  events    ${summary.events} in ${summary.cities} cities`,
    `  listings  ${summary.added} added${again}`,
    `Open ${url} to browse them; sign in as a seller with ${SELLERS[0]!.email} and the password "${SELLER_PASSWORD}".`,
  ].join('\n');
}

function scaleFromEnv(): number {
  const text = process.env.SEED_SCALE;
  if (!text) return 1;
  const scale = Number(text);
  if (!(scale > 0 && scale <= 10)) throw new SeedError('SEED_SCALE must be a number above 0 and at most 10');
  return scale;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = (process.env.SEED_URL || DEFAULT_URL).replace(/\/+$/, '');
  try {
    const summary = await seed({ url, scale: scaleFromEnv() });
    console.log(describeSummary(summary, url));
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (error instanceof SeedError) console.error(`seed: ${error.message}`);
    else if (cause?.code === 'ECONNREFUSED') {
      console.error(`seed: nothing answers at ${url}: start the marketplace (npm start) or set SEED_URL`);
    } else console.error(error);
    process.exitCode = 1;
  }
}
