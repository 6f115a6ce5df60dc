// @vitest-environment jsdom
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ann, currentPath, errorOf, fakeApi, renderApp, signedInAs } from './setup.tsx';
import { friendlyMessage } from '../src/api.ts';
import { refusedTitleCharacter, refusedTitleMessage } from '../src/title-characters.ts';
import * as server from '../../../services/tickets/src/domain/title-characters.ts';

const ticket = {
  id: '0b0c8a52-2222-4b4b-9c9c-000000000002',
  title: 'The Midnight Owls',
  price: 35.5,
  faceValue: 35.5,
  maxPrice: 35.5,
  listed: true,
  timesSold: 0,
  userId: ann.id,
  version: 0,
  createdAt: '2025-11-21T10:00:00.000Z',
};

async function openSellForm() {
  renderApp('/tickets/new');
  await screen.findByRole('heading', { name: 'Sell a ticket' });
  return userEvent.setup();
}

describe('sell form', () => {
  it('shows the price to two decimals, sends it as a number, and goes to the new ticket', async () => {
    const api = fakeApi({
      ...signedInAs(ann),
      'POST /api/tickets': { status: 201, body: ticket },
      [`GET /api/tickets/${ticket.id}`]: { body: ticket },
    });
    const user = await openSellForm();
    await user.type(screen.getByLabelText('Title'), '  The Midnight Owls ');
    await user.type(screen.getByLabelText('Price'), '35.5');
    await user.tab();
    expect(screen.getByLabelText<HTMLInputElement>('Price').value).toBe('35.50');

    await user.click(screen.getByRole('button', { name: 'List ticket' }));

    expect(await screen.findByRole('heading', { name: 'The Midnight Owls' })).toBeTruthy();
    expect(currentPath()).toBe(`/tickets/${ticket.id}`);
    expect(screen.getByText('$35.50')).toBeTruthy();
    expect(api.callsTo('POST /api/tickets')[0]!.body).toEqual({ title: 'The Midnight Owls', price: 35.5 });
  });

  it('reads prices the way people type them', async () => {
    const api = fakeApi({ ...signedInAs(ann), 'POST /api/tickets': { status: 201, body: ticket } });
    const user = await openSellForm();
    await user.type(screen.getByLabelText('Title'), 'Opera');
    await user.type(screen.getByLabelText('Price'), '$1,200');
    await user.tab();
    expect(screen.getByLabelText<HTMLInputElement>('Price').value).toBe('1200.00');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    expect(api.callsTo('POST /api/tickets')[0]?.body).toEqual({ title: 'Opera', price: 1200 });
  });

  it('counts a title in characters, as the server does: 200 emoji are 200, not 400', async () => {
    const api = fakeApi({ ...signedInAs(ann), 'POST /api/tickets': { status: 201, body: ticket } });
    const user = await openSellForm();
    const title = '🎫'.repeat(200);
    // Pasted, as typing 200 emoji one by one would take the test long.
    await user.click(screen.getByLabelText('Title'));
    await user.paste(title);
    await user.type(screen.getByLabelText('Price'), '10');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    await waitFor(() => expect(api.callsTo('POST /api/tickets')).toHaveLength(1));
    expect(api.callsTo('POST /api/tickets')[0]?.body).toEqual({ title, price: 10 });
  });

  it('explains what is wrong beside each field, before sending anything', async () => {
    const api = fakeApi(signedInAs(ann));
    const user = await openSellForm();
    const price = screen.getByLabelText<HTMLInputElement>('Price');

    const title = screen.getByLabelText('Title');
    // A refused submit moves the focus to the first invalid field on the next frame; typing on
    // before it has moved would type into whichever field it lands on.
    const submitRefused = async () => {
      await user.click(screen.getByRole('button', { name: 'List ticket' }));
      await waitFor(() => expect(document.activeElement).toBe(title));
    };

    await user.type(price, 'ten');
    await user.tab();
    expect(price.value).toBe('ten'); // not a price: left as typed, to be corrected
    await submitRefused();
    expect(errorOf(title)).toBe('Enter a title');
    expect(errorOf(price)).toBe('Enter the price as a number, like 35.50');

    for (const [typed, message] of [
      ['12.345', 'Use at most two decimals (cents)'],
      ['0', 'The price must be more than $0.00'],
      ['2000000', 'The price can be at most $1,000,000.00'],
      ['12,50', 'Use a dot for cents, like 12.50 (commas only between thousands)'],
      ['1,20,0', 'Use a dot for cents, like 12.50 (commas only between thousands)'],
    ] as const) {
      await user.clear(price);
      await user.type(price, typed);
      await submitRefused();
      expect(errorOf(price)).toBe(message);
    }
    expect(api.callsTo('POST /api/tickets')).toHaveLength(0);
  });

  it('refuses a title with a text direction override or an invisible character, in the API’s words', async () => {
    const api = fakeApi(signedInAs(ann));
    const user = await openSellForm();
    const title = screen.getByLabelText('Title');
    await user.click(title);
    await user.paste('Concert \u202Etsiv');
    await user.type(screen.getByLabelText('Price'), '10');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    const message =
      'Title must not contain line breaks, control characters, invisible characters or text direction controls (it has U+202E)';
    await waitFor(() => expect(errorOf(title)).toBe(message));
    // The same words as the API's answer, shown the way the form shows the API's messages.
    expect(friendlyMessage({ message: server.refusedTitleMessage('U+202E'), field: 'title' })).toBe(message);
    expect(api.callsTo('POST /api/tickets')).toHaveLength(0);

    await user.clear(title);
    await user.paste('Family 👨‍👩‍👧 day');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    await waitFor(() => expect(api.callsTo('POST /api/tickets')).toHaveLength(1));
  });

  it('decides which characters a title may hold as the tickets service does', () => {
    const titles = [
      'Concert',
      'Café 周杰伦 فيروز 🎸',
      'Con\u200Bcert',
      'Con\u200Dcert',
      '👩\u200D💻 meetup',
      '🏳️\u200D🌈',
      '🎫\u200Dx',
      'a\u2066b\u2069',
      'line\nbreak',
      'England 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}',
      'loose tag \u{E0067}',
      'filler \u3164',
      'soft\u00ADhyphen',
    ];
    for (const title of titles) {
      expect(refusedTitleCharacter(title), title).toBe(server.refusedTitleCharacter(title));
      const character = refusedTitleCharacter(title);
      if (character)
        expect(refusedTitleMessage(character)).toBe(
          friendlyMessage({ message: server.refusedTitleMessage(character), field: 'title' }),
        );
    }
  });

  it('sends the face value when one is given, and shows the cap the API refuses beside the price', async () => {
    const api = fakeApi({
      ...signedInAs(ann),
      'POST /api/tickets': [
        {
          status: 400,
          body: { errors: [{ message: 'price can be at most 40.00, the face value', field: 'price' }] },
        },
        { status: 201, body: { ...ticket, price: 40, faceValue: 40, maxPrice: 40 } },
      ],
    });
    const user = await openSellForm();
    await user.type(screen.getByLabelText('Title'), 'Festival pass');
    await user.type(screen.getByLabelText('Price'), '45');
    const faceValue = screen.getByLabelText<HTMLInputElement>('Face value');
    expect(errorOf(faceValue)).toBe('');
    await user.type(faceValue, '40');
    await user.tab();
    expect(faceValue.value).toBe('40.00');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));

    const price = screen.getByLabelText<HTMLInputElement>('Price');
    expect(await screen.findByText('Price can be at most 40.00, the face value')).toBeTruthy();
    expect(errorOf(price)).toBe('Price can be at most 40.00, the face value');
    await waitFor(() => expect(document.activeElement).toBe(price));

    await user.clear(price);
    await user.type(price, '40');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    await waitFor(() => expect(currentPath()).toBe(`/tickets/${ticket.id}`));
    expect(api.callsTo('POST /api/tickets').map((call) => call.body)).toEqual([
      { title: 'Festival pass', price: 45, faceValue: 40 },
      { title: 'Festival pass', price: 40, faceValue: 40 },
    ]);
  });

  it('reads the face value with the price’s rules, in its own words', async () => {
    const api = fakeApi(signedInAs(ann));
    const user = await openSellForm();
    await user.type(screen.getByLabelText('Title'), 'Opera');
    await user.type(screen.getByLabelText('Price'), '20');
    const faceValue = screen.getByLabelText('Face value');
    await user.type(faceValue, 'twenty');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    await waitFor(() => expect(document.activeElement).toBe(faceValue));
    expect(errorOf(faceValue)).toBe('Enter the face value as a number, like 35.50');
    await user.clear(faceValue);
    await user.type(faceValue, '0');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    await waitFor(() => expect(errorOf(faceValue)).toBe('The face value must be more than $0.00'));
    expect(api.callsTo('POST /api/tickets')).toHaveLength(0);
  });

  it('shows what the API refuses beside the field it names', async () => {
    fakeApi({
      ...signedInAs(ann),
      'POST /api/tickets': {
        status: 400,
        body: { errors: [{ message: 'title must be at most 200 characters', field: 'title' }] },
      },
    });
    const user = await openSellForm();
    await user.type(screen.getByLabelText('Title'), 'Festival pass');
    await user.type(screen.getByLabelText('Price'), '80');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));

    await screen.findByText('Title must be at most 200 characters');
    expect(errorOf(screen.getByLabelText('Title'))).toBe('Title must be at most 200 characters');
    expect(errorOf(screen.getByLabelText('Price'))).toBe('');
    expect(currentPath()).toBe('/tickets/new');
  });
});
