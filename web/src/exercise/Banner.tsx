/**
 * The EXERCISE banner: on every page while the user is in an exercise (an exercise page sets it,
 * "Leave exercise" clears it), a full-width striped bar with the exercise name, so nobody takes
 * exercise injects for real events. Exercise pages always show it.
 */
import { href, navigate, type Route } from '../router.js';
import { setCurrentExercise, useCurrentExercise } from './api.js';

export function ExerciseBanner({ route }: { route: Route }) {
  const current = useCurrentExercise();
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

/**
 * On the respond screens (incidents, assistance, decisions, attribution) while the tab is in an
 * exercise: says that the list shows the exercise's records only and that what is created here
 * goes into the exercise, next to the banner, so nobody declares a real incident by mistake.
 */
export function ExerciseScope({ what }: { what: string }) {
  const current = useCurrentExercise();
  if (!current) return null;
  return (
    <p className="exercise-scope" role="note" data-testid="exercise-scope">
      <strong>EXERCISE</strong> {what} of <strong>{current.name}</strong> only; what you create here goes into the exercise, never into real operations.
    </p>
  );
}

/** On a respond record's page while the tab is in an exercise (the record is read in the exercise's world). */
export function ExerciseRecord() {
  const current = useCurrentExercise();
  if (!current) return null;
  return <p className="exercise-scope" role="note" data-testid="exercise-scope"><strong>EXERCISE</strong> A record of <strong>{current.name}</strong>, not of real operations.</p>;
}
