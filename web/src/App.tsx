import { useSession } from './session.js';
import { href, useRoute } from './router.js';
import type { Route } from './router.js';
import { SignIn } from './pages/SignIn.js';
import { Overview } from './pages/Overview.js';
import { Explorer } from './pages/Explorer.js';
import { Detail } from './pages/Detail.js';
import { Import } from './pages/Import.js';

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'overview': return <Overview />;
    case 'explorer': return <Explorer params={route.params} />;
    case 'detail': return <Detail key={route.id} id={route.id} />;
    case 'import': return <Import />;
    case 'not-found':
      return (
        <section>
          <h1>Page not found</h1>
          <p>There is no page at <code>{route.path}</code>. <a href={href.overview()}>Go to the overview</a>.</p>
        </section>
      );
  }
}

const NAV: { name: Route['name']; label: string; to: string }[] = [
  { name: 'overview', label: 'Alliance', to: href.overview() },
  { name: 'explorer', label: 'Intel explorer', to: href.explorer() },
  { name: 'import', label: 'Import', to: href.import() },
];

export function App() {
  const { session, signOut } = useSession();
  const route = useRoute();
  if (!session) return <SignIn />;
  const active = route.name === 'detail' ? 'explorer' : route.name;
  return (
    <>
      <header className="topbar">
        <a className="brand" href={href.overview()}>Shieldwall</a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.name}>
                <a href={n.to} aria-current={active === n.name ? 'page' : undefined}>{n.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami" data-testid="whoami">
          <span>{session.user.displayName || session.user.username}</span>
          {session.organisation && <span className="muted"> · {session.organisation.shortName || session.organisation.name}</span>}
          <button type="button" className="link-button" onClick={() => void signOut()}>Sign out</button>
        </div>
      </header>
      <main className="content">
        <Page route={route} />
      </main>
    </>
  );
}
