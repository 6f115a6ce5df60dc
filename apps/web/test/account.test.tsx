// @vitest-environment jsdom
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ann, currentPath, fakeApi, renderApp, signedInAs } from './setup.tsx';

const emptyHome = { 'GET /api/tickets': { body: [] } };

describe('account', () => {
  it('is one click away from the header', async () => {
    fakeApi({ ...signedInAs(ann), ...emptyHome });
    renderApp('/');
    const user = userEvent.setup();
    await user.click(await within(screen.getByRole('banner')).findByRole('link', { name: /^Account/ }));

    expect(await screen.findByRole('heading', { name: 'Account' })).toBeTruthy();
    expect(currentPath()).toBe('/account');
    expect(screen.getByText(ann.email, { selector: 'strong' })).toBeTruthy();
  });

  it('signs out everywhere, then shows the visitor signed out at home', async () => {
    const api = fakeApi({
      ...signedInAs(ann),
      ...emptyHome,
      'POST /api/users/signout-everywhere': { body: {} },
    });
    renderApp('/account');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Sign out everywhere' }));

    expect(await screen.findByRole('heading', { name: 'Tickets for sale' })).toBeTruthy();
    const header = screen.getByRole('banner');
    expect(await within(header).findByRole('link', { name: 'Sign in' })).toBeTruthy();
    expect(within(header).queryByRole('button', { name: 'Sign out' })).toBeNull();
    expect(currentPath()).toBe('/');
    expect(api.callsTo('POST /api/users/signout-everywhere')).toHaveLength(1);
    expect(api.callsTo('POST /api/users/signout')).toHaveLength(0);
  });

  it('signs out of this session too, and goes home', async () => {
    const api = fakeApi({ ...signedInAs(ann), ...emptyHome, 'POST /api/users/signout': { body: {} } });
    renderApp('/account');
    const user = userEvent.setup();
    await user.click(await within(screen.getByRole('main')).findByRole('button', { name: 'Sign out' }));

    expect(await screen.findByRole('heading', { name: 'Tickets for sale' })).toBeTruthy();
    expect(currentPath()).toBe('/');
    expect(within(screen.getByRole('banner')).getByRole('link', { name: 'Sign in' })).toBeTruthy();
    expect(api.callsTo('POST /api/users/signout')).toHaveLength(1);
    expect(api.callsTo('POST /api/users/signout-everywhere')).toHaveLength(0);
  });

  it('says why when it could not, and stays signed in', async () => {
    fakeApi({
      ...signedInAs(ann),
      'POST /api/users/signout-everywhere': {
        status: 503,
        body: { errors: [{ message: 'Try again later' }] },
      },
    });
    renderApp('/account');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Sign out everywhere' }));

    expect((await screen.findByRole('alert')).textContent).toBe('Try again later');
    expect(currentPath()).toBe('/account');
    expect(within(screen.getByRole('banner')).getByRole('button', { name: 'Sign out' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Sign out everywhere' })).toHaveProperty('disabled', false);
  });

  it('sends a signed-out visitor to sign in first', async () => {
    fakeApi({ 'GET /api/users/currentuser': { body: { currentUser: null } } });
    renderApp('/account');
    expect(await screen.findByRole('heading', { name: 'Welcome back' })).toBeTruthy();
    expect(currentPath()).toBe('/auth/signin?next=%2Faccount');
  });
});
