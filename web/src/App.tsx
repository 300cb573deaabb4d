import { mayDo, useSession } from './session.js';
import { href, useRoute } from './router.js';
import type { Route } from './router.js';
import { SignIn } from './pages/SignIn.js';
import { Overview } from './pages/Overview.js';
import { Explorer } from './pages/Explorer.js';
import { Detail } from './pages/Detail.js';
import { Import } from './pages/Import.js';
import { Incidents } from './pages/Incidents.js';
import { IncidentDetail } from './pages/IncidentDetail.js';
import { Assistance } from './pages/Assistance.js';
import { Decisions } from './pages/Decisions.js';
import { DecisionDetail } from './pages/DecisionDetail.js';
import { Attribution, AssessmentDetail } from './pages/Attribution.js';
import { AlertLevels } from './pages/AlertLevels.js';
import { LiveProvider } from './live.js';
import { Cop } from './pages/Cop.js';
import { Alerts } from './pages/Alerts.js';
import { AlertDetail } from './pages/AlertDetail.js';
import { ThemeToggle } from './components/ThemeToggle.js';
import { System } from './pages/System.js';
import { Audit } from './pages/Audit.js';
import { Account } from './pages/Account.js';
import { Federation } from './pages/Federation.js';
import { Exercises } from './pages/Exercises.js';
import { ExercisePage } from './pages/Exercise.js';
import { ExerciseReport } from './pages/ExerciseReport.js';
import { ExerciseBanner } from './exercise/Banner.js';
import { Readiness } from './pages/Readiness.js';
import { Inventory } from './pages/Inventory.js';
import { Exposures } from './pages/Exposures.js';
import { Advisories } from './pages/Advisories.js';

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'overview': return <Overview />;
    case 'explorer': return <Explorer params={route.params} />;
    case 'detail': return <Detail key={route.id} id={route.id} />;
    case 'import': return <Import />;
    case 'incidents': return <Incidents />;
    case 'incident': return <IncidentDetail key={route.id} id={route.id} />;
    case 'assistance': return <Assistance />;
    case 'decisions': return <Decisions />;
    case 'decision': return <DecisionDetail key={route.id} id={route.id} />;
    case 'attribution': return <Attribution />;
    case 'assessment': return <AssessmentDetail key={route.id} id={route.id} />;
    case 'alert-levels': return <AlertLevels />;
    case 'cop': return <Cop params={route.params} />;
    case 'alerts': return <Alerts params={route.params} />;
    case 'alert': return <AlertDetail key={route.id} id={route.id} />;
    case 'system': return <System />;
    case 'audit': return <Audit />;
    case 'account': return <Account />;
    case 'federation': return <Federation />;
    case 'exercises': return <Exercises />;
    case 'exercise': return <ExercisePage key={route.id} id={route.id} />;
    case 'exercise-report': return <ExerciseReport key={route.id} id={route.id} />;
    case 'readiness': return <Readiness params={route.params} />;
    case 'inventory': return <Inventory />;
    case 'exposures': return <Exposures />;
    case 'advisories': return <Advisories />;
    case 'not-found':
      return (
        <section>
          <h1>Page not found</h1>
          <p>There is no page at <code>{route.path}</code>. <a href={href.cop()}>Go to the operational picture</a>.</p>
        </section>
      );
  }
}

/** `short`: the visible text where the full label would not fit one line at 1440 px (the full one is the link's name). */
const NAV: { name: Route['name']; label: string; short?: string; to: string; action?: string }[] = [
  { name: 'cop', label: 'Operational picture', to: href.cop() },
  { name: 'alerts', label: 'Alerts', to: href.alerts() },
  { name: 'overview', label: 'Alliance', to: href.overview() },
  { name: 'explorer', label: 'Intel explorer', short: 'Intel', to: href.explorer() },
  { name: 'import', label: 'Import', to: href.import(), action: 'intel.write' },
  { name: 'incidents', label: 'Incidents', to: href.incidents() },
  { name: 'assistance', label: 'Assistance', to: href.assistance() },
  { name: 'decisions', label: 'Decisions', to: href.decisions() },
  { name: 'attribution', label: 'Attribution', to: href.attribution() },
  { name: 'alert-levels', label: 'Alert levels', short: 'Levels', to: href.alertLevels() },
  { name: 'system', label: 'System', to: href.system(), action: 'admin.system' },
  { name: 'federation', label: 'Federation', to: href.federation(), action: 'federation.read' },
  { name: 'exercises', label: 'Exercises', to: href.exercises(), action: 'exercise.read' },
  { name: 'readiness', label: 'Readiness', to: href.readiness(), action: 'readiness.read' },
];

/** The navigation entry a detail page belongs to. */
const PARENT: Partial<Record<Route['name'], Route['name']>> = {
  detail: 'explorer', incident: 'incidents', decision: 'decisions', assessment: 'attribution', alert: 'alerts',
  exercise: 'exercises', 'exercise-report': 'exercises', audit: 'system', inventory: 'readiness', exposures: 'readiness', advisories: 'readiness',
};

export function App() {
  const { session, signOut } = useSession();
  const route = useRoute();
  if (!session) return <SignIn />;
  const active = PARENT[route.name] ?? route.name;
  return (
    <LiveProvider>
      <header className="topbar">
        <a className="brand" href={href.cop()}>Shieldwall</a>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => n.action === undefined || mayDo(session, n.action)).map((n) => (
              <li key={n.name}>
                <a href={n.to} aria-current={active === n.name ? 'page' : undefined} {...(n.short ? { 'aria-label': n.label, title: n.label } : {})}>{n.short ?? n.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami" data-testid="whoami">
          <a href={href.account()} title="Your account and password">{session.user.displayName || session.user.username}</a>
          {session.organisation && <span className="muted"> · {session.organisation.shortName || session.organisation.name}</span>}
          <ThemeToggle />
          <button type="button" className="link-button" onClick={() => void signOut()}>Sign out</button>
        </div>
      </header>
      <ExerciseBanner route={route} />
      <main className="content">
        <Page route={route} />
      </main>
    </LiveProvider>
  );
}
