// @vitest-environment jsdom
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ann, currentPath, errorOf, fakeApi, renderApp, signedOut } from './setup.tsx';

const emptyHome = { 'GET /api/tickets': { body: [] } };

describe('sign up', () => {
  it('shows an API error beside the field it names, and stays on the form', async () => {
    const api = fakeApi({
      ...signedOut,
      'POST /api/users/signup': {
        status: 400,
        body: { errors: [{ message: 'Email in use', field: 'email' }] },
      },
    });
    renderApp('/auth/signup');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Email'), 'ann@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    const email = screen.getByLabelText('Email');
    expect(await screen.findByText('Email in use')).toBeTruthy();
    expect(errorOf(email)).toBe('Email in use');
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(errorOf(screen.getByLabelText('Password'))).toBe('');
    expect(screen.queryByRole('alert')).toBeNull(); // nothing above the form: it belongs to Email
    expect(currentPath()).toBe('/auth/signup');
    expect(api.callsTo('POST /api/users/signup')[0]!.body).toEqual({
      email: 'ann@example.com',
      password: 'correct horse',
    });
  });

  it('puts the API validation messages in plain words beside their fields', async () => {
    fakeApi({
      ...signedOut,
      'POST /api/users/signup': {
        status: 400,
        body: {
          errors: [
            { message: 'email must match format "email"', field: 'email' },
            { message: 'password must NOT have more than 128 characters', field: 'password' },
          ],
        },
      },
    });
    renderApp('/auth/signup');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Email'), 'ann-at-example');
    await user.type(screen.getByLabelText('Password'), 'long enough password');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    await screen.findByText('Email must be a valid email address');
    expect(errorOf(screen.getByLabelText('Email'))).toBe('Email must be a valid email address');
    expect(errorOf(screen.getByLabelText('Password'))).toBe('Password must be at most 128 characters');
  });

  it('says beside the password when the API finds it too common', async () => {
    fakeApi({
      ...signedOut,
      'POST /api/users/signup': {
        status: 400,
        body: {
          errors: [
            {
              message:
                'password is one of the most common passwords, the first ones attackers try; choose another',
              field: 'password',
            },
          ],
        },
      },
    });
    renderApp('/auth/signup');
    const user = userEvent.setup();
    expect(await screen.findByText('At least 8 characters, and not a common password.')).toBeTruthy();
    await user.type(screen.getByLabelText('Email'), 'ann@example.com');
    await user.type(screen.getByLabelText('Password'), 'password');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));
    const message =
      'Password is one of the most common passwords, the first ones attackers try; choose another';
    expect(await screen.findByText(message)).toBeTruthy();
    expect(errorOf(screen.getByLabelText('Password'))).toBe(message);
  });

  it('checks the form before sending it', async () => {
    const api = fakeApi(signedOut);
    renderApp('/auth/signup');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Password'), 'short');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    expect(errorOf(screen.getByLabelText('Email'))).toBe('Enter your email');
    expect(errorOf(screen.getByLabelText('Password'))).toBe('Use at least 8 characters');
    expect(api.callsTo('POST /api/users/signup')).toHaveLength(0);
  });

  it('signs the new user in and goes home', async () => {
    fakeApi({ ...signedOut, ...emptyHome, 'POST /api/users/signup': { status: 201, body: ann } });
    renderApp('/auth/signup');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Email'), ann.email);
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    expect(await screen.findByRole('heading', { name: 'Tickets for sale' })).toBeTruthy();
    expect(currentPath()).toBe('/');
    const header = screen.getByRole('banner');
    expect(within(header).getByRole('button', { name: 'Sign out' })).toBeTruthy();
    expect(within(header).getByRole('link', { name: 'Sell tickets' })).toBeTruthy();
    expect(within(header).queryByRole('link', { name: 'Sign in' })).toBeNull();
  });
});

describe('sign in', () => {
  it('shows an error that names no field above the form', async () => {
    fakeApi({
      ...signedOut,
      'POST /api/users/signin': { status: 400, body: { errors: [{ message: 'Invalid credentials' }] } },
    });
    renderApp('/auth/signin');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Email'), ann.email);
    await user.type(screen.getByLabelText('Password'), 'wrong password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Invalid credentials');
    // Above the form's inputs, and tied to neither of them.
    expect(
      alert.compareDocumentPosition(screen.getByLabelText('Email')) & Node.DOCUMENT_POSITION_FOLLOWING,
    ).toBeTruthy();
    expect(errorOf(screen.getByLabelText('Email'))).toBe('');
    expect(errorOf(screen.getByLabelText('Password'))).toBe('');
    expect(currentPath()).toBe('/auth/signin');
  });

  it('comes back to the page that asked for a signed-in user', async () => {
    fakeApi({ ...signedOut, 'POST /api/users/signin': { body: ann } });
    renderApp('/tickets/new');

    await screen.findByRole('heading', { name: 'Welcome back' });
    expect(currentPath()).toBe('/auth/signin?next=%2Ftickets%2Fnew');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), ann.email);
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Sell a ticket' })).toBeTruthy();
    expect(currentPath()).toBe('/tickets/new');
  });

  it('never follows a next= that leaves the site', async () => {
    fakeApi({ ...signedOut, ...emptyHome, 'POST /api/users/signin': { body: ann } });
    renderApp('/auth/signin?next=//evil.example/steal');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Email'), ann.email);
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    await screen.findByRole('heading', { name: 'Tickets for sale' });
    expect(currentPath()).toBe('/');
  });
});
