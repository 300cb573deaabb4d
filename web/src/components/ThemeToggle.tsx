/**
 * Light theme for the desk, dark for the SOC wall: a toggle in the top bar, remembered in this
 * browser (localStorage), applied as `data-theme` on <html> so the CSS palette switches at once.
 */
import { useEffect, useState } from 'react';

export type Theme = 'light' | 'dark';
const KEY = 'shieldwall.theme';

/** The remembered theme; light when none was chosen or storage is unavailable. */
export function storedTheme(): Theme {
  try {
    return localStorage.getItem(KEY) === 'dark' ? 'dark' : 'light';
  } catch {
    return 'light';
  }
}

export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
}

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  useEffect(() => {
    applyTheme(theme);
    try {
      localStorage.setItem(KEY, theme);
    } catch {
      // private mode: the choice lasts for this page only
    }
  }, [theme]);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <button type="button" className="link-button theme-toggle" data-testid="theme-toggle" aria-pressed={theme === 'dark'}
      title={`Switch to the ${next} theme`} onClick={() => setTheme(next)}>
      {theme === 'dark' ? 'Light' : 'Dark'} theme
    </button>
  );
}
