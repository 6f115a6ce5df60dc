/**
 * `npm run seed` against the marketplace in this process, at a quarter of its size: what it lists
 * is found by the search (by city, accents aside, and by venue), and a second run adds nothing.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../scripts/seed.ts';
import { checkedFetch, startOneProcess, type System } from './support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCALE = '0.25';

async function runSeed(url: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/seed.ts'], {
    cwd: ROOT,
    env: { ...process.env, SEED_URL: url, SEED_SCALE: SCALE },
  });
  return stdout;
}

describe('npm run seed', () => {
  let system: System & { marketplace: { url: string } };
  let firstRun: string;
  const expected = plan(Number(SCALE));

  beforeAll(async () => {
    system = await startOneProcess();
    firstRun = await runSeed(system.marketplace.url);
  });
  afterAll(() => system?.stop());

  const ticketCount = async () =>
    Number((await system.query<{ count: string }>('tickets', 'select count(*) from tickets'))[0]!.count);

  const search = async (query: string) => {
    const response = await checkedFetch(`${system.marketplace.url}/api/tickets?limit=100&${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      title: string;
      venue: string;
      city: string;
      price: number;
      faceValue: number;
    }[];
  };

  it('lists every planned ticket and says what it made', async () => {
    expect(firstRun).toContain(`sellers   6 (6 signed up, 0 signed in)`);
    expect(firstRun).toContain(`events    ${expected.events.length} in 8 cities`);
    expect(firstRun).toContain(`listings  ${expected.listings.length} added`);
    expect(firstRun).toContain(`Open ${system.marketplace.url}`);
    expect(await ticketCount()).toBe(expected.listings.length);
  });

  it('lists tickets the search finds by city, case and accents aside, never above face value', async () => {
    const inKoln = await search('city=KOLN');
    expect(inKoln.length).toBe(expected.listings.filter((l) => l.city === 'Köln').length);
    expect(inKoln.length).toBeGreaterThan(0);
    expect(new Set(inKoln.map((t) => t.city))).toEqual(new Set(['Köln']));
    for (const ticket of await search('sort=price'))
      expect(ticket.price).toBeLessThanOrEqual(ticket.faceValue);
    const venue = expected.events[0]!.venue;
    const atVenue = await search(`q=${encodeURIComponent(venue.split(' ')[0]!.toLowerCase())}`);
    expect(atVenue.some((t) => t.venue === venue)).toBe(true);
  });

  it('adds nothing when run again, and says so', async () => {
    const again = await runSeed(system.marketplace.url);
    expect(again).toContain('sellers   6 (0 signed up, 6 signed in)');
    expect(again).toContain(`all ${expected.listings.length} were there from an earlier seed, nothing added`);
    expect(await ticketCount()).toBe(expected.listings.length);
  });
});
