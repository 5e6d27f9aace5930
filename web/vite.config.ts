/**
 * The console's build (Vite). The output goes to web/dist, which the Rempart server serves from the
 * same origin as the API (src/http/console.ts). No inline script is produced: the server's
 * Content-Security-Policy forbids them.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Source maps would publish the console's source next to it: not needed to run it.
    sourcemap: false,
    // The module preload polyfill would be one more script: every browser the console supports has it.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
