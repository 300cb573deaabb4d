import { ApiError } from '../api.js';

/** Shows an API error with the server's own message (and its code, for support requests). */
export function ErrorBox({ error, title }: { error: Error; title?: string }) {
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div className="error" role="alert" data-testid="error">
      {title && <strong>{title}: </strong>}
      <span data-testid="error-message">{error.message}</span>
      {code && <span className="error-code"> ({code})</span>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="loading" role="status" aria-live="polite">Loading {what}…</p>;
}

export function formatTime(ts: string | null | undefined): string {
  if (!ts) return '–';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/** A time the server gives in microseconds since the epoch (null: `never`). */
export function formatUs(us: number | null): string {
  return us === null ? 'never' : formatTime(new Date(us / 1000).toISOString());
}
