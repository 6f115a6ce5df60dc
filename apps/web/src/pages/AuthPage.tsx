/** Sign up and sign in: one form, two wordings. Success goes to `?next=` (home by default). */
import { useRef, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { api } from '../api.ts';
import { Field, FormErrors } from '../components/Field.tsx';
import { focusFirstInvalid, hasErrors, noErrors, sortErrors, type FormErrorState } from '../form-errors.ts';
import { useTitle } from '../hooks.ts';
import { safeNext, useSession } from '../session.tsx';

const MIN_PASSWORD = 8;

export function AuthPage({ mode }: { mode: 'signup' | 'signin' }) {
  const signup = mode === 'signup';
  useTitle(signup ? 'Sign up' : 'Sign in');
  const { user, setUser } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const formRef = useRef<HTMLFormElement>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FormErrorState>(noErrors);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  // Already signed in (a bookmarked sign-in page): nothing to do here.
  if (user && !done && !busy) return <Navigate to={next} replace />;

  function check(): FormErrorState {
    const fields: Record<string, string[]> = {};
    if (email.trim() === '') fields.email = ['Enter your email'];
    if (password === '') fields.password = [signup ? 'Choose a password' : 'Enter your password'];
    else if (signup && password.length < MIN_PASSWORD) {
      fields.password = [`Use at least ${MIN_PASSWORD} characters`];
    }
    return { fields, general: [] };
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const problems = check();
    setErrors(problems);
    if (hasErrors(problems)) return focusFirstInvalid(formRef.current);
    setBusy(true);
    try {
      const credentials = { email: email.trim(), password };
      const signedIn = await (signup ? api.signUp(credentials) : api.signIn(credentials));
      setDone(true);
      setUser(signedIn);
      await navigate(next, { replace: true });
    } catch (error) {
      setErrors(sortErrors(error, ['email', 'password']));
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  }

  const other = signup ? '/auth/signin' : '/auth/signup';
  const otherHref = next === '/' ? other : `${other}?next=${encodeURIComponent(next)}`;

  return (
    <section className="auth card" aria-labelledby="auth-title">
      <h1 id="auth-title">{signup ? 'Create your account' : 'Welcome back'}</h1>
      <p className="muted">
        {next !== '/'
          ? `${signup ? 'Sign up' : 'Sign in'} to continue.`
          : signup
            ? 'Buy and sell tickets in minutes.'
            : 'Sign in to buy and sell tickets.'}
      </p>
      <form ref={formRef} className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
        <FormErrors messages={errors.general} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          errors={errors.fields.email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete={signup ? 'new-password' : 'current-password'}
          value={password}
          errors={errors.fields.password}
          {...(signup ? { hint: `At least ${MIN_PASSWORD} characters, and not a common password.` } : {})}
          onChange={(event) => setPassword(event.target.value)}
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {signup ? 'Sign up' : 'Sign in'}
        </button>
      </form>
      <p className="auth-switch">
        {signup ? 'Already have an account?' : 'New here?'}{' '}
        <Link to={otherHref}>{signup ? 'Sign in instead' : 'Create an account'}</Link>
      </p>
    </section>
  );
}
