/**
 * The marketplace in a real browser: Debian's Chromium driven by playwright-core against the
 * one-process marketplace serving the built web client. Ann sells on a desktop-sized window, Bob
 * buys on a phone-sized one (separate browser contexts: separate cookies), finds the ticket with
 * its entry code in My tickets, and sells it again within its face value. Each step is saved as
 * artifacts/screenshots/NN-step.png, and the home page with several listings as
 * artifacts/screenshots/readme-home.png (docs/images/web-client.png, in the README, is a copy).
 * Without Chromium the suite is skipped, saying so.
 *
 * Every page and state a test visits is audited: axe-core (injected into the page) finds no WCAG
 * 2.2 A or AA violation, and nothing scrolls sideways (the page is no wider than the window, down
 * to 320 px). A buyer also goes through a whole purchase at 320 px with the keyboard alone, the
 * test asserting where focus lands after each step and that its ring shows, unclipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
  type Response,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedFetch, startOneProcess, User, type System } from './support.ts';
import { checkExchange, isApiPath } from './openapi-contract.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from './chromium.ts';

const SCREENSHOTS = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `e2e/browser.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}

/** `text` matched literally inside a RegExp. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** axe-core's script, evaluated in a page (as the DevTools protocol runs it, the page's CSP allows it). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Every state audited, and what each audit found: the tests end by asserting there was nothing. */
const audited: string[] = [];
const violations: string[] = [];

/**
 * Audits the page as it is now: axe-core's WCAG A/AA rules, and reflow (nothing wider than the
 * window, which would scroll sideways). Findings are collected under `state`, asserted empty by
 * the test (so that one run lists them all).
 */
async function audit(page: Page, state: string): Promise<void> {
  if ((await page.evaluate('typeof window.axe')) !== 'object') await page.evaluate(AXE_SOURCE);
  // (Scripts as text: they run in the page, and this file is compiled without the DOM's types.)
  const found = await page.evaluate<string[]>(`
    axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_TAGS)} }, resultTypes: ['violations'] })
      .then((result) => result.violations.map((violation) =>
        violation.id + ' (' + violation.impact + '): ' + violation.help + ' at ' +
        violation.nodes.map((node) => node.target.join(' ')).join(', ')))`);
  const width = await page.evaluate<{ scroll: number; client: number }>(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  );
  const where = `${state} at ${page.viewportSize()?.width ?? '?'} px`;
  violations.push(...found.map((finding) => `${where}: ${finding}`));
  if (width.scroll > width.client)
    violations.push(`${where}: scrolls sideways, ${width.scroll} px of content in ${width.client}`);
  audited.push(where);
}

let step = 0;
/** A screenshot of the step, which is audited too (`audit: false` for pages not the client's). */
async function screenshot(page: Page, name: string, options: { audit?: boolean } = {}): Promise<void> {
  if (options.audit !== false) await audit(page, name);
  step += 1;
  // From the top: a full-page capture of a scrolled page draws the sticky header mid-page.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${String(step).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}

let system: System & { marketplace: { url: string } };
beforeAll(async () => {
  system = await startOneProcess({ web: true });
}, 120_000);
afterAll(async () => {
  await system?.stop();
});

describe('the web client served by the marketplace', () => {
  const get = (path: string, init?: RequestInit) => checkedFetch(system.marketplace.url + path, init);

  it('serves the client at / and index.html for its routes, never cached', async () => {
    for (const path of ['/', '/orders/7a7a7a7a-3333-4c4c-8d8d-000000000003', '/auth/signin?next=%2Forders']) {
      const response = await get(path, { headers: { accept: 'text/html' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toContain('<div id="root">');
    }
  });

  it('serves the hashed assets index.html names, cached for good', async () => {
    const html = await (await get('/')).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const response = await get(script!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect((await get('/assets/gone-1234.js')).status).toBe(404);
  });

  it('sends the client’s files as the build compressed them, and the API’s JSON compressed, to a browser that accepts it', async () => {
    const html = await (await get('/')).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    const plain = await get(script, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const source = await plain.text();
    for (const [accepted, encoding] of [
      ['br, gzip', 'br'],
      ['gzip', 'gzip'],
    ] as const) {
      for (const file of [script, style]) {
        const response = await get(file, { headers: { 'accept-encoding': accepted } });
        expect(response.headers.get('content-encoding'), `${file} for ${accepted}`).toBe(encoding);
        expect(response.headers.get('vary')).toMatch(/accept-encoding/i);
        expect(response.headers.get('cache-control')).toContain('immutable');
        if (file === script) expect(await response.text()).toBe(source); // (fetch decodes it)
      }
    }
    // The API's answers too, from 1 KB: a seller's eight tickets (taken off sale again at once,
    // for the tests below, which expect nothing on sale).
    const json = { 'content-type': 'application/json' };
    const signedUp = await get('/api/users/signup', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: `seller-${Date.now()}@example.test`, password: 'correct horse battery' }),
    });
    const cookie = signedUp.headers.get('set-cookie')!.split(';')[0]!;
    for (let index = 0; index < 8; index++) {
      const listed = await get('/api/tickets', {
        method: 'POST',
        headers: { ...json, cookie },
        body: JSON.stringify({ title: `Withdrawn ${index}`, price: 10 }),
      });
      const { id } = (await listed.json()) as { id: string };
      const withdrawn = await get(`/api/tickets/${id}/listing`, { method: 'DELETE', headers: { cookie } });
      expect(withdrawn.status).toBe(204);
    }
    const mine = await get('/api/tickets/mine', { headers: { cookie, 'accept-encoding': 'br, gzip' } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-encoding')).toBe('br');
    expect(((await mine.json()) as { tickets: unknown[] }).tickets).toHaveLength(8);
  });

  it('keeps the API answering JSON, with its own 404 for unknown routes', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['GET', '/api'],
      ['POST', '/api/tickets/nope/nope'],
    ] as const) {
      const response = await get(path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toEqual({ errors: [{ message: 'Not found' }] });
    }
    expect(await (await get('/api/tickets')).json()).toEqual([]);
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
  });
});

(haveChromium ? describe : describe.skip)('the marketplace in a browser', () => {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  // Any uncaught error in a page fails the test: a broken client must not pass because its HTML did.
  const pageErrors: string[] = [];
  // So does anything the Content-Security-Policy blocked: a script, a style, an image (the QR
  // codes are data: URLs), a connection. Each page reports them as the browser raises them.
  const cspViolations: string[] = [];
  // Every API response the pages receive is held to the served OpenAPI document, as the other
  // e2e tests' responses are.
  const apiChecks: Promise<void>[] = [];
  async function checkApiResponse(response: Response): Promise<void> {
    let text: string;
    try {
      text = await response.text();
    } catch {
      return; // a body the browser dropped (its page navigated away meanwhile) cannot be read
    }
    await checkExchange({
      method: response.request().method(),
      url: response.url(),
      status: response.status(),
      contentType: (await response.allHeaders())['content-type'] ?? null,
      text,
    });
  }

  beforeAll(async () => {
    await rm(SCREENSHOTS, { recursive: true, force: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
  });

  async function newPage(viewport: { width: number; height: number }, mobile = false): Promise<Page> {
    const context = await browser.newContext({
      baseURL: system.marketplace.url,
      viewport,
      ...(mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    contexts.push(context);
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
      console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline')));`);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.text().startsWith('CSP violation')) cspViolations.push(message.text());
    });
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (isApiPath(new URL(response.url()).pathname)) apiChecks.push(checkApiResponse(response));
    });
    return page;
  }

  /** The entry code a ticket's card on My tickets shows as text (and as a QR code). */
  async function entryCode(card: Locator): Promise<string> {
    const text = card.locator('.entry-code-text');
    await text.waitFor();
    const code = (await text.textContent()) ?? '';
    expect(code).toMatch(/^[A-Z2-7]{32}$/);
    return code;
  }

  /** What the door's check says of `code` (no session needed). */
  async function verify(code: string): Promise<unknown> {
    const response = await checkedFetch(`${system.marketplace.url}/api/tickets/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    expect(response.status).toBe(200);
    return response.json();
  }

  async function signUp(page: Page, email: string): Promise<void> {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
  }

  it('one user lists a ticket, another buys it, it leaves the listing, and the buyer sells it again', async () => {
    const title = `The Midnight Owls, live ${Date.now().toString(36)}`;
    const ann = await newPage({ width: 1280, height: 800 });
    const bob = await newPage({ width: 390, height: 844 }, true);
    const header = (page: Page) => page.getByRole('banner');

    // Ann opens the sell page signed out: she is sent to sign in, and comes back after signing up.
    await ann.goto('/');
    await header(ann).getByRole('link', { name: 'Sign up', exact: true }).waitFor();
    await screenshot(ann, 'home-signed-out');
    await ann.goto('/tickets/new');
    await ann.waitForURL('**/auth/signin?next=%2Ftickets%2Fnew');
    await ann.getByRole('link', { name: 'Create an account', exact: true }).click();
    await ann.waitForURL('**/auth/signup?next=%2Ftickets%2Fnew');
    await signUp(ann, `ann-${Date.now()}@example.test`);
    await screenshot(ann, 'ann-signs-up');
    await ann.getByRole('button', { name: 'Sign up', exact: true }).click();

    // Back on the sell page, signed in. The price reads to two decimals once typed.
    await ann.getByRole('heading', { name: 'Sell a ticket', exact: true }).waitFor();
    expect(new URL(ann.url()).pathname).toBe('/tickets/new');
    await header(ann).getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    await ann.getByLabel('Title').fill(title);
    await ann.getByLabel('Price').fill('35.5');
    await ann.getByLabel('Price').blur();
    expect(await ann.getByLabel('Price').inputValue()).toBe('35.50');
    await ann.getByLabel('Face value').fill('40');
    await screenshot(ann, 'ann-sell-form');
    await ann.getByRole('button', { name: 'List ticket', exact: true }).click();

    // Her ticket's page: hers, so an edit form and no Purchase button.
    await ann.getByRole('heading', { name: title }).waitFor();
    expect(ann.url()).toMatch(/\/tickets\/[0-9a-f-]{36}$/);
    expect(await ann.getByText('$35.50').first().isVisible()).toBe(true);
    expect(await ann.locator('.price-line').textContent()).toBe('$35.50 · face value $40.00');
    await ann.getByRole('button', { name: 'Save changes', exact: true }).waitFor();
    expect(await ann.getByRole('button', { name: 'Purchase', exact: true }).count()).toBe(0);
    await screenshot(ann, 'ann-ticket-page');
    const ticketPath = new URL(ann.url()).pathname;
    const ticketId = ticketPath.split('/').pop()!;

    // Her tickets: this one on sale, with its entry code, which stops working once it sells.
    await header(ann).getByRole('link', { name: 'My tickets', exact: true }).click();
    const annsCard = ann.getByRole('article', { name: title });
    await annsCard.getByText('On sale', { exact: true }).waitFor();
    await annsCard.getByRole('button', { name: 'Withdraw', exact: true }).waitFor();
    const annsCode = await entryCode(annsCard);
    await screenshot(ann, 'ann-my-tickets');
    await ann.goBack();
    await ann.getByRole('heading', { name: title }).waitFor();

    // Bob signs up on his phone and finds the ticket on the home page.
    await bob.goto('/auth/signup');
    await signUp(bob, `bob-${Date.now()}@example.test`);
    await bob.getByRole('button', { name: 'Sign up', exact: true }).click();
    await bob.waitForURL((url) => url.pathname === '/');
    const listing = bob.getByRole('link', { name: new RegExp(title) });
    await listing.waitFor();
    expect(await listing.textContent()).toContain('$35.50 Face value $40.00');
    await screenshot(bob, 'bob-home');
    await listing.click();

    // He purchases it: an order, and its page with a countdown and the payment form.
    await bob.getByRole('heading', { name: title }).waitFor();
    await screenshot(bob, 'bob-ticket-page');
    await bob.getByRole('button', { name: 'Purchase', exact: true }).click();
    await bob.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
    await bob.getByText('Awaiting payment').waitFor();
    expect(await bob.getByRole('timer').textContent()).toMatch(/^1[45] min \d\d? s left to pay$/);
    await bob.getByLabel('Test card that succeeds').check();
    await screenshot(bob, 'bob-order-page');
    await bob.getByRole('button', { name: 'Pay', exact: true }).click();

    // The order completes without a reload.
    await bob.getByText('Payment received — your order is complete.').waitFor();
    expect(await bob.locator('.badge').first().textContent()).toBe('Paid');
    expect(await bob.getByRole('button', { name: 'Pay', exact: true }).count()).toBe(0);
    await screenshot(bob, 'bob-order-complete');

    await bob.getByRole('banner').getByRole('link', { name: 'My orders', exact: true }).click();
    await bob.getByRole('heading', { name: 'My orders', exact: true }).waitFor();
    const row = bob.getByRole('link', { name: new RegExp(title) });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/\$35\.50.*Paid/);
    await screenshot(bob, 'bob-my-orders');

    // From the paid order to My tickets, where the ticket arrives (it passes to him by an event),
    // not listed, with an entry code of his own: Ann's stops working.
    await row.click();
    await bob.getByRole('main').getByRole('link', { name: 'My tickets', exact: true }).click();
    await bob.waitForURL((url) => url.pathname === '/tickets/mine');
    const bobsCard = bob.getByRole('article', { name: title });
    await bobsCard.getByText('Not listed', { exact: true }).waitFor();
    const qr = bobsCard.getByRole('img', { name: `QR code to enter with ${title}` });
    await qr.waitFor();
    // Drawn, not a broken image: the SVG the encoder made decoded to a picture.
    await expect
      .poll(() => qr.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    const bobsCode = await entryCode(bobsCard);
    expect(bobsCode).not.toBe(annsCode);
    expect(await verify(annsCode)).toEqual({ valid: false });
    expect(await verify(bobsCode)).toEqual({ valid: true, ticketId, title });
    // Nothing wider than his phone: the header's four actions and the code fit its row and card.
    expect(await bob.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(bob, 'bob-my-tickets');

    // Ann's home page no longer lists it; her old ticket page says where a sold ticket went.
    await ann.goto('/');
    await ann.getByRole('heading', { name: 'Tickets for sale', exact: true }).waitFor();
    await ann.getByText('No tickets for sale right now').waitFor();
    expect(await ann.getByRole('link', { name: new RegExp(title) }).count()).toBe(0);
    await screenshot(ann, 'ann-home-ticket-gone');
    await ann.goBack();
    await ann.getByRole('heading', { name: 'We couldn’t find that ticket', exact: true }).waitFor();
    await ann.getByRole('main').getByRole('link', { name: 'My sales', exact: true }).click();
    const sale = ann.getByRole('list', { name: 'Sales' }).getByRole('listitem');
    await sale.first().waitFor();
    expect(await sale.count()).toBe(1);
    expect(await sale.textContent()).toMatch(new RegExp(`${escape(title)}.*Sold .*\\$35\\.50`));
    await screenshot(ann, 'ann-my-sales');

    // Bob sells it again: the form says the cap before he types; above it he is refused, in the
    // form and by the API, and at it the ticket is on sale again.
    const sellAgain = bobsCard.getByRole('form', { name: 'Sell again' });
    await sellAgain.getByText('You can ask up to $40.00, its face value.').waitFor();
    const askingPrice = sellAgain.getByLabel('Asking price');
    await askingPrice.fill('40.01');
    await sellAgain.getByRole('button', { name: 'List for sale', exact: true }).click();
    await sellAgain.getByText('You can ask up to $40.00, its face value, not $40.01.').waitFor();
    expect(await askingPrice.getAttribute('aria-invalid')).toBe('true');
    await screenshot(bob, 'bob-sell-again-refused');
    const refused = await bob.evaluate(async (id) => {
      const response = await fetch(`/api/tickets/${id}/listing`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ price: 40.01 }),
      });
      return { status: response.status, body: await response.json() };
    }, ticketId);
    expect(refused).toMatchObject({ status: 400, body: { errors: [{ field: 'price' }] } });
    expect(JSON.stringify(refused.body)).toContain('40.00');

    await askingPrice.fill('40');
    await sellAgain.getByRole('button', { name: 'List for sale', exact: true }).click();
    await bobsCard.getByText('On sale for $40.00. Buyers see it on the home page now.').waitFor();
    await bobsCard.getByText('On sale', { exact: true }).waitFor();
    expect(await entryCode(bobsCard)).toBe(bobsCode); // his until it sells
    await screenshot(bob, 'bob-sold-again');

    // Ann sees it for sale again, at Bob's price, beside its face value.
    await ann.goto('/');
    const relisted = ann.getByRole('link', { name: new RegExp(title) });
    await relisted.waitFor();
    expect(await relisted.textContent()).toContain('$40.00 Face value $40.00');
    expect(await relisted.textContent()).not.toContain('Your listing');
    await screenshot(ann, 'ann-home-resold');

    // Bob withdraws it (the next test expects an empty listing), and could sell it again.
    await bobsCard.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await bobsCard.getByText('Withdrawn: it is no longer for sale.').waitFor();
    await bobsCard.getByRole('form', { name: 'Sell again' }).waitFor();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(violations).toEqual([]);
    const checked = await Promise.allSettled(apiChecks);
    expect(checked.length).toBeGreaterThan(10);
    expect(checked.flatMap((check) => (check.status === 'rejected' ? [String(check.reason)] : []))).toEqual(
      [],
    );
  }, 120_000);

  // After the test above, whose seller expects the listing to be empty once her ticket is bought.
  it('shows a signed-in visitor the tickets for sale, newest first (the picture in the README)', async () => {
    const at = (days: number, hour: number) => {
      const date = new Date(Date.now() + days * 86_400_000);
      date.setHours(hour, 0, 0, 0);
      return date.toISOString();
    };
    const listings: [title: string, price: number, venue: string, city: string, startsAt: string][] = [
      ['Chamber choir: Bach motets', 24, 'St John’s Smith Square', 'London', at(30, 19)],
      ['City FC vs Rovers, East Stand', 38, 'City Stadium', 'Manchester', at(12, 15)],
      ['Stand-up at The Basement', 18, 'The Basement', 'Brighton', at(5, 21)],
      ['The Nutcracker, circle B12', 79.99, 'Royal Opera House', 'London', at(19, 19)],
      ['Indie Weekender day pass', 55, 'Victoria Park', 'London', at(45, 12)],
      ['Jazz trio at the Blue Lantern', 32.5, 'Blue Lantern', 'Bristol', at(8, 20)],
      ['Brahms 4 at the Philharmonic', 62.5, 'Philharmonie', 'Paris', at(24, 20)],
      ['The Midnight Owls, live', 45, 'Olympia', 'Paris', at(3, 20)],
    ];
    const seller = await new User(system.route).signUp();
    for (const [title, price, venue, city, startsAt] of listings) {
      const listed = await seller.request('POST', '/api/tickets', { title, price, venue, city, startsAt });
      expect(listed.status).toBe(201);
    }

    const visitor = await newPage({ width: 1120, height: 640 });
    await visitor.goto('/auth/signup');
    await signUp(visitor, 'cam@example.test');
    await visitor.getByRole('button', { name: 'Sign up', exact: true }).click();
    await visitor.waitForURL((url) => url.pathname === '/');
    const shown = visitor.getByRole('main').getByRole('link', { name: /\$\d/ });
    await visitor.getByRole('link', { name: /The Midnight Owls/ }).waitFor();
    const texts = await shown.allTextContents();
    // Newest first: the last listed leads, with its price as the client writes it.
    expect(texts[0]).toMatch(/The Midnight Owls, live.*\$45\.00/);
    expect(
      texts.slice(0, listings.length).map((text) => listings.findIndex(([title]) => text.includes(title))),
    ).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
    await audit(visitor, 'home with eight listings');
    await visitor.screenshot({ path: path.join(SCREENSHOTS, 'readme-home.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(violations).toEqual([]);
  }, 60_000);

  it('finds a ticket with the search and its filters, and buys it', async () => {
    const tag = Date.now().toString(36);
    const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const listings: [title: string, price: number, venue: string, city: string, days: number][] = [
      [`Orchestre de Paris: Mahler 5 (${tag})`, 60, 'Philharmonie', 'Paris', 3],
      [`Café Tacvba live (${tag})`, 45, 'Olympia', 'Paris', 10],
      [`Mahler Symphony No. 2 (${tag})`, 80, 'Concertgebouw', 'Amsterdam', 20],
      [`Jazz à Vienne (${tag})`, 35, 'Théâtre Antique', 'Vienne', 40],
    ];
    const seller = await new User(system.route).signUp();
    for (const [title, price, venue, city, days] of listings) {
      const listed = await seller.request('POST', '/api/tickets', {
        title,
        price,
        venue,
        city,
        startsAt: inDays(days),
      });
      expect(listed.status).toBe(201);
    }

    const dee = await newPage({ width: 1280, height: 800 });
    await dee.goto('/auth/signup');
    await signUp(dee, `dee-${tag}@example.test`);
    await dee.getByRole('button', { name: 'Sign up', exact: true }).click();
    await dee.waitForURL((url) => url.pathname === '/');
    const search = dee.getByRole('search', { name: 'Tickets' });
    const results = dee.getByRole('list', { name: 'Tickets' }).getByRole('link');
    const titles = async () => (await results.allTextContents()).map((text) => text.split(` (${tag})`)[0]);

    // Words in any case and order, then a city: the address keeps the search.
    await search.getByLabel('Search').fill(`MAHLER ${tag}`);
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(titles).toEqual(['Mahler Symphony No. 2', 'Orchestre de Paris: Mahler 5']);
    await search.getByLabel('City').fill('paris');
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(titles).toEqual(['Orchestre de Paris: Mahler 5']);
    expect(new URL(dee.url()).search).toBe(`?q=MAHLER+${tag}&city=paris`);
    await audit(dee, 'search results');

    // A price range that nothing meets says so, and the search clears in one click.
    await search.getByLabel('Highest price').fill('50');
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await dee.getByRole('heading', { name: 'No tickets match your search' }).waitFor();
    await audit(dee, 'search with no results');
    await dee.getByRole('button', { name: 'Clear the search' }).click();
    await dee.waitForURL((url) => url.search === '');

    // Accents aside ("cafe" finds "Café"), sorted by the soonest event, with where and when.
    await search.getByLabel('Search').fill(`cafe ${tag}`);
    await search.getByRole('button', { name: 'Search', exact: true }).click();
    await dee.getByLabel('Sort by').selectOption('startsAt');
    await dee.waitForURL((url) => url.searchParams.get('sort') === 'startsAt');
    await expect.poll(titles).toEqual(['Café Tacvba live']);
    const card = results.first();
    expect(await card.textContent()).toMatch(/· Olympia, Paris.*starts in 10 days/);
    await screenshot(dee, 'dee-search');

    // And buys it.
    await card.click();
    await dee.getByRole('heading', { name: listings[1]![0] }).waitFor();
    expect(await dee.locator('.ticket-event').textContent()).toMatch(/Olympia, Paris · starts in 10 days/);
    await dee.getByRole('button', { name: 'Purchase', exact: true }).click();
    await dee.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
    await dee.getByText('Awaiting payment').waitFor();
    await dee.getByLabel('Test card that succeeds').check();
    await dee.getByRole('button', { name: 'Pay', exact: true }).click();
    await dee.getByText('Payment received — your order is complete.').waitFor();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(violations).toEqual([]);
  }, 90_000);

  it('shows the API documentation, under a policy of its own', async () => {
    const reader = await newPage({ width: 1280, height: 800 });
    const response = await reader.goto('/api/docs');
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    // Swagger UI ran its scripts, fetched the document and drew its operations with its styles.
    await reader.locator('.swagger-ui .opblock').first().waitFor();
    expect(await reader.locator('.swagger-ui .opblock').count()).toBeGreaterThan(10);
    expect(await reader.getByText('/api/tickets', { exact: true }).count()).toBeGreaterThan(0);
    await screenshot(reader, 'api-docs', { audit: false }); // Swagger UI's page, not the client's
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 60_000);

  /** What has focus: its tag, and its name as a screen reader would read it (roughly). */
  async function focused(page: Page): Promise<{ tag: string; name: string }> {
    return page.evaluate<{ tag: string; name: string }>(`(() => {
      const element = document.activeElement;
      if (!element || element === document.body) return { tag: 'BODY', name: '' };
      const label = element instanceof HTMLInputElement ? element.labels?.[0]?.innerText : undefined;
      const name = element.getAttribute('aria-label') ?? label ?? element.innerText;
      return { tag: element.tagName, name: name.replace(/\\s+/g, ' ').trim() };
    })()`);
  }

  /** Presses Tab (Shift+Tab when `back`) until focus is on what `matches`, at most 40 times. */
  async function tabTo(
    page: Page,
    matches: (target: { tag: string; name: string }) => boolean,
    back = false,
  ): Promise<{ tag: string; name: string }> {
    for (let press = 0; press < 40; press++) {
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
      const target = await focused(page);
      if (matches(target)) return target;
    }
    throw new Error(`Tab never reached it; focus is on ${JSON.stringify(await focused(page))}`);
  }

  /**
   * The focused element's ring is drawn (a solid outline of at least 2 px, in the brand colour:
   * 6.3:1 on white) and no ancestor that clips its overflow cuts it off.
   */
  async function expectVisibleFocus(page: Page): Promise<void> {
    const ring = await page.evaluate<{
      style: string;
      width: number;
      color: string;
      clippedBy: string[];
    }>(`(() => {
      const element = document.activeElement;
      const style = getComputedStyle(element);
      const width = parseFloat(style.outlineWidth);
      const offset = parseFloat(style.outlineOffset);
      const box = element.getBoundingClientRect();
      const reach = Math.max(0, width + offset);
      const ring = {
        left: box.left - reach,
        top: box.top - reach,
        right: box.right + reach,
        bottom: box.bottom + reach,
      };
      const clippedBy = [];
      for (let parent = element.parentElement; parent; parent = parent.parentElement) {
        const overflow = getComputedStyle(parent);
        if (overflow.overflowX === 'visible' && overflow.overflowY === 'visible') continue;
        if (parent === document.documentElement || parent === document.body) continue;
        const clip = parent.getBoundingClientRect();
        if (
          ring.left < clip.left ||
          ring.top < clip.top ||
          ring.right > clip.right ||
          ring.bottom > clip.bottom
        )
          clippedBy.push(parent.tagName + '.' + parent.className);
      }
      return { style: style.outlineStyle, width, color: style.outlineColor, clippedBy };
    })()`);
    expect(ring.style).toBe('solid');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    expect(ring.color).toMatch(/^rgb\((79, 70, 229|185, 28, 28)\)$/); // the brand's, or the error's
    expect(ring.clippedBy).toEqual([]);
  }

  it('takes a buyer through a purchase at 320 px with the keyboard alone, focus always where it should be', async () => {
    const title = `Keyboard quartet ${Date.now().toString(36)}`;
    const seller = await new User(system.route).signUp();
    const listed = await seller.request<{ id: string }>('POST', '/api/tickets', { title, price: 28 });
    expect(listed.status).toBe(201);
    const page = await newPage({ width: 320, height: 640 });
    const at = (tag: string, name: string | RegExp) => (target: { tag: string; name: string }) =>
      target.tag === tag && (typeof name === 'string' ? target.name === name : name.test(target.name));
    const focusOn = async (tag: string, name: string | RegExp) => {
      await expect.poll(() => focused(page).then(at(tag, name))).toBe(true);
      await expectVisibleFocus(page);
    };

    // Signing up: the skip link first, then the form, then the home page's heading.
    await page.goto('/auth/signup');
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await page.keyboard.press('Tab');
    await focusOn('A', 'Skip to main content');
    await page.keyboard.press('Enter');
    await focusOn('H1', 'Create your account');
    await page.keyboard.press('Tab');
    await focusOn('INPUT', 'Email');
    await page.keyboard.type(`kim-${Date.now()}@example.test`);
    await page.keyboard.press('Tab');
    await focusOn('INPUT', 'Password');
    await page.keyboard.type('correct horse battery');
    await tabTo(page, at('BUTTON', 'Sign up'));
    await expectVisibleFocus(page);
    await audit(page, 'keyboard: sign-up form filled');
    await page.keyboard.press('Enter');
    await focusOn('H1', 'Tickets for sale');
    await audit(page, 'keyboard: home');

    // The ticket's card, its ring whole around it; then its page, which says what Purchase does.
    await tabTo(page, at('A', new RegExp(escape(title))));
    await expectVisibleFocus(page);
    await page.keyboard.press('Enter');
    await focusOn('H1', title);
    await page.getByText('Reserves this ticket for 15 minutes while you pay').waitFor();
    await audit(page, 'keyboard: ticket page');
    await tabTo(page, at('BUTTON', 'Purchase'));
    await expectVisibleFocus(page);
    await page.keyboard.press('Enter');

    // The order: its heading, its countdown in words, and the card choice by arrow keys.
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
    const orderId = page.url().split('/').pop()!;
    const number = orderId.replace(/-/g, '').slice(0, 8).toUpperCase();
    await focusOn('H1', title);
    await page.getByRole('button', { name: 'Pay', exact: true }).waitFor();
    expect(await page.getByRole('timer').textContent()).toMatch(/^1[45] min \d\d? s left to pay$/);
    expect(await page.getByText('Order number').locator('..').textContent()).toContain(number);
    await audit(page, 'keyboard: order awaiting payment');
    await tabTo(page, at('INPUT', 'Test card that succeeds'));
    await expectVisibleFocus(page);
    await page.keyboard.press('ArrowDown');
    await focusOn('INPUT', 'Test card that is declined');
    await tabTo(page, at('BUTTON', 'Pay'));
    await page.keyboard.press('Enter');

    // Declined: said aloud, and focus back on the card chosen, the order still payable.
    await expect
      .poll(() => page.getByTestId('announce-assertive').textContent())
      .toBe('Your card was declined.');
    await focusOn('INPUT', 'Test card that is declined');
    await audit(page, 'keyboard: card declined');
    await page.keyboard.press('ArrowUp');
    await focusOn('INPUT', 'Test card that succeeds');
    await tabTo(page, at('BUTTON', 'Pay'));
    await page.keyboard.press('Enter');

    // Paid: the form is gone, focus is on the outcome in its place, and the outcome is said.
    await expect
      .poll(() => page.evaluate<string>("document.activeElement?.className ?? ''"))
      .toContain('outcome');
    await page.getByText('Payment received — your order is complete.').waitFor();
    await expect.poll(() => page.getByTestId('announce-polite').textContent()).toMatch(/^Payment received/);
    await audit(page, 'keyboard: order paid');
    await screenshot(page, 'keyboard-order-paid');

    // The receipt, which prints without the site around it.
    await tabTo(page, at('A', 'Receipt'));
    await expectVisibleFocus(page);
    await page.keyboard.press('Enter');
    await focusOn('H1', `Receipt for order ${number}`);
    expect(await page.locator('.receipt').textContent()).toMatch(/Total paid\$28\.00/);
    await audit(page, 'keyboard: receipt');
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('banner').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Print receipt' }).isVisible()).toBe(false);
    expect(await page.getByRole('heading', { name: `Receipt for order ${number}` }).isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'receipt-print.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });

    // Back up to the header, to My orders: the row's ring is not cut by the list around it.
    await tabTo(page, at('A', 'My orders'), true);
    await expectVisibleFocus(page);
    await page.keyboard.press('Enter');
    await focusOn('H1', 'My orders');
    await tabTo(page, at('A', new RegExp(escape(title))));
    await expectVisibleFocus(page);
    expect((await focused(page)).name).toContain(`Order ${number}`);
    await audit(page, 'keyboard: my orders');
    await screenshot(page, 'keyboard-my-orders');

    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(violations).toEqual([]);
  }, 120_000);

  it('shows every page at 320 px without sideways scrolling, signed in and out, forms in error too', async () => {
    const page = await newPage({ width: 320, height: 640 });
    await page.goto('/auth/signin');
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Enter your email').waitFor();
    await audit(page, 'sign-in form in error');
    await page.goto('/account');
    await page.getByRole('main').getByRole('link').first().waitFor();
    await audit(page, 'account, signed out');
    await page.goto('/auth/signup');
    await signUp(page, `lee-${Date.now()}@example.test`);
    await page.getByRole('button', { name: 'Sign up', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('banner').getByRole('link', { name: 'Account' }).waitFor();
    for (const [path, heading] of [
      ['/', 'Tickets for sale'],
      ['/tickets/new', 'Sell a ticket'],
      ['/tickets/mine', 'My tickets'],
      ['/orders', 'My orders'],
      ['/sales', 'My sales'],
      ['/account', 'Account'],
      ['/nowhere', 'We couldn’t find that page'],
    ] as const) {
      await page.goto(path);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await audit(page, path);
      // "Sign out" fits where it shows (the account page, on a phone), whole.
      if (path === '/account') {
        const signOut = page.getByRole('main').getByRole('button', { name: 'Sign out', exact: true });
        const box = await signOut.boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= 320).toBe(true);
      }
    }
    await page.goto('/tickets/new');
    await page.getByRole('button', { name: 'List ticket', exact: true }).click();
    await page.getByText('Enter a price').waitFor();
    await audit(page, 'sell form in error');
    expect(audited.filter((state) => state.endsWith('at 320 px')).length).toBeGreaterThan(10);
    expect(pageErrors).toEqual([]);
    expect(violations).toEqual([]);
  }, 120_000);

  it('says a reservation ran out, and reserves the ticket again while it is still free', async () => {
    // A marketplace of its own, whose orders hold their ticket for 6 seconds.
    const short = await startOneProcess({ web: true, orderExpirationSeconds: 6 });
    try {
      const seller = await new User(() => short.marketplace.url).signUp();
      const title = `Late show ${Date.now().toString(36)}`;
      const listed = await seller.request<{ id: string }>('POST', '/api/tickets', { title, price: 19 });
      expect(listed.status).toBe(201);
      const context = await browser.newContext({
        baseURL: short.marketplace.url,
        viewport: { width: 390, height: 844 },
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto('/auth/signup');
      await signUp(page, `max-${Date.now()}@example.test`);
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      await page.waitForURL((url) => url.pathname === '/');
      await page.goto(`/tickets/${listed.body.id}`);
      // What Purchase does, in the marketplace's own setting.
      await page.getByText('Reserves this ticket for 6 seconds while you pay').waitFor();
      await page.getByRole('button', { name: 'Purchase', exact: true }).click();
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
      const first = page.url();
      await page.getByRole('button', { name: 'Pay', exact: true }).waitFor();

      await page
        .getByText('This reservation expired before it was paid, so the ticket went back on sale.')
        .waitFor();
      await expect
        .poll(() => page.getByTestId('announce-assertive').textContent())
        .toBe('Your reservation expired before it was paid, so the ticket went back on sale.');
      expect(await page.getByRole('button', { name: 'Pay', exact: true }).count()).toBe(0);
      const again = page.getByRole('button', { name: 'Reserve again', exact: true });
      await again.waitFor();
      await audit(page, 'reservation expired, Reserve again offered');
      await screenshot(page, 'reservation-expired');
      await again.click();
      await page.waitForURL((url) => url.href !== first && /\/orders\/[0-9a-f-]{36}$/.test(url.pathname));
      await page.getByRole('button', { name: 'Pay', exact: true }).waitFor();
      expect(
        await page.evaluate<string>(
          "document.activeElement?.tagName + ' ' + document.activeElement?.textContent",
        ),
      ).toBe(`H1 ${title}`);
      expect(pageErrors).toEqual([]);
      expect(violations).toEqual([]);
    } finally {
      await short.stop();
    }
  }, 120_000);
});
