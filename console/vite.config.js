// Vite builds the console for embedding (console/CMakeLists.txt): everything is served from
// /console/ by Tessera itself; hashed files under assets/ are cached as immutable.
// `npm run dev` serves it with hot reload and forwards the API to a running Tessera
// (TESSERA_URL, default http://127.0.0.1:8080), so the page still talks to one origin.
import { defineConfig } from 'vite';

const target = process.env.TESSERA_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline scripts or data: modules: the Content-Security-Policy forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/v1': { target, changeOrigin: false, ws: true },
    },
  },
});
