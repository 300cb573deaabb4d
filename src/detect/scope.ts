/**
 * The scope of the state a detection keeps from one event to the next — STIX sequence windows
 * (FOLLOWEDBY, REPEATS, observation AND) and Sigma correlation groups: an organisation's real
 * telemetry, or its telemetry in one exercise. Events of an exercise never complete, or count
 * towards, a real-world sequence or correlation, nor real events an exercise's (docs/exercises.md
 * "Isolation"). Scale-out partitions are by organisation, whatever the exercise: `scopeOrg`.
 */
const SEP = '\u001f';

export function stateScope(orgId: string, exerciseId: string | null): string {
  return exerciseId === null ? orgId : `${orgId}${SEP}${exerciseId}`;
}

/** The organisation of a scope. */
export function scopeOrg(scope: string): string {
  const i = scope.indexOf(SEP);
  return i < 0 ? scope : scope.slice(0, i);
}
