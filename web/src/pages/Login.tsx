/** Sign-in form, and the first-run setup form (/setup?token=…) that creates the first admin. */
import { useState, type FormEvent } from 'react';
import { ApiError, login, setup, type Session } from '../lib/api';

function describe(err: unknown): string {
  if (err instanceof ApiError) {
    const retry = err.body.retryAfterSeconds;
    return typeof retry === 'number' ? `${err.message} (try again in ${retry} s)` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

interface Props {
  onSignedIn: (s: Session) => void;
}

function Credentials(p: { title: string; button: string; submit: (u: string, pw: string) => Promise<void>; note?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await p.submit(username, password);
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth">
      <form className="card" onSubmit={(e) => void onSubmit(e)}>
        <h1>{p.title}</h1>
        {p.note !== undefined && <p className="muted">{p.note}</p>}
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error !== '' && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {p.button}
        </button>
      </form>
    </main>
  );
}

export function LoginPage({ onSignedIn }: Props) {
  return <Credentials title="Sign in to Vantage" button="Sign in" submit={async (u, pw) => onSignedIn(await login(u, pw))} />;
}

export function SetupPage({ onSignedIn, token }: Props & { token: string }) {
  if (token === '') {
    return (
      <main className="auth">
        <div className="card">
          <h1>First-run setup</h1>
          <p className="error">This page needs the setup link printed in the server&apos;s startup log (/setup?token=…).</p>
        </div>
      </main>
    );
  }
  return (
    <Credentials
      title="Create the first admin"
      note="This link works once. Choose the admin's username and password."
      button="Create admin"
      submit={async (u, pw) => onSignedIn(await setup(token, u, pw))}
    />
  );
}
