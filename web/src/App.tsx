/** The dashboard shell: loads the session, shows login/setup when signed out, else the nav and the page. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError, getSession, logout, type Session } from './lib/api';
import { href, navigate, useLocation } from './lib/router';
import { LoginPage, SetupPage } from './pages/Login';
import { pages, findPage } from './pages';

type State = { kind: 'loading' } | { kind: 'signed-out'; setupRequired: boolean } | { kind: 'signed-in'; session: Session } | { kind: 'error'; message: string };

function Link({ to, children, active }: { to: string; children: ReactNode; active: boolean }) {
  return (
    <a
      href={href(to)}
      className={active ? 'active' : ''}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function App() {
  const loc = useLocation();
  const [state, setState] = useState<State>({ kind: 'loading' });
  const load = useCallback(async () => {
    try {
      setState({ kind: 'signed-in', session: await getSession() });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setState({ kind: 'signed-out', setupRequired: err.body.setupRequired === true });
      else setState({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const signedIn = (session: Session) => {
    setState({ kind: 'signed-in', session });
    if (loc.path === '/setup' || loc.path === '/login') navigate('/', true);
  };

  if (state.kind === 'loading') return <main className="auth muted">Loading…</main>;
  if (state.kind === 'error') return <main className="auth error">The server did not answer: {state.message}</main>;
  if (state.kind === 'signed-out') {
    if (loc.path === '/setup') return <SetupPage token={loc.query.get('token') ?? ''} onSignedIn={signedIn} />;
    return <LoginPage onSignedIn={signedIn} />;
  }

  const { session } = state;
  const page = findPage(loc.path, session.user.role);
  return (
    <div className="shell">
      <nav>
        <strong style={{ padding: '6px 8px' }}>Vantage</strong>
        {pages
          .filter((p) => p.nav && (p.minRole !== 'admin' || session.user.role === 'admin'))
          .map((p) => (
            <Link key={p.path} to={p.path} active={page?.def.path === p.path}>
              {p.title}
            </Link>
          ))}
        <div className="who">
          {session.user.username} ({session.user.role})
          <br />
          <button
            className="secondary"
            onClick={() => {
              void logout().finally(() => {
                setState({ kind: 'signed-out', setupRequired: false });
                navigate('/', true);
              });
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
      <section className="content">{page ? page.def.render({ session, params: page.params, query: loc.query }) : <h1>Page not found</h1>}</section>
    </div>
  );
}
