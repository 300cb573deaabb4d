// Builds the dashboard to static files that the API server serves at `/` (docs/rest-api.md).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No source map in the production bundle: it would publish the dashboard's sources.
    sourcemap: false,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: forward API calls to a local node.
    proxy: { '/api': 'http://127.0.0.1:8443', '/taxii2': 'http://127.0.0.1:8443' },
  },
});
