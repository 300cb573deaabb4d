/**
 * The EXERCISE banner: on every page while the user is in an exercise (an exercise page sets it,
 * "Leave exercise" clears it), a full-width striped bar with the exercise name, so nobody takes
 * exercise injects for real events. Exercise pages always show it.
 */
import { useSyncExternalStore } from 'react';
import { href, navigate, type Route } from '../router.js';
import { currentExercise, setCurrentExercise, type CurrentExercise } from './api.js';

function subscribe(cb: () => void): () => void {
  window.addEventListener('shieldwall-exercise', cb);
  return () => window.removeEventListener('shieldwall-exercise', cb);
}
let cached: { raw: string | null; value: CurrentExercise | null } = { raw: null, value: null };
function snapshot(): CurrentExercise | null {
  const raw = sessionStorage.getItem('shieldwall.exercise');
  if (raw !== cached.raw) cached = { raw, value: currentExercise() };
  return cached.value;
}

export function ExerciseBanner({ route }: { route: Route }) {
  const current = useSyncExternalStore(subscribe, snapshot, () => null);
  const onExercisePage = route.name === 'exercise' || route.name === 'exercise-report';
  if (!current && !onExercisePage) return null;
  const shown = current && (!onExercisePage || current.id === route.id) ? current : null;
  return (
    <div className="exercise-banner" role="status" aria-live="polite" data-testid="exercise-banner">
      <strong>EXERCISE</strong>
      <span data-testid="exercise-banner-name">{shown ? shown.name : 'loading…'}</span>
      <span className="small">Everything here belongs to the exercise, not to real operations.</span>
      {shown && route.name !== 'exercise' && <a href={href.exercise(shown.id)}>Back to the exercise</a>}
      {shown && (
        <button type="button" className="link-button" onClick={() => { setCurrentExercise(null); navigate(href.exercises()); }}>Leave exercise</button>
      )}
    </div>
  );
}
