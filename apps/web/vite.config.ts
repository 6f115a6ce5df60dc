/**
 * Vite for the web client. `npm run dev` serves it with hot reload and forwards `/api` to the
 * marketplace (`npm start`, port 3000 by default; API_URL points elsewhere), so the browser sees
 * one origin and the session cookie works as it does when the marketplace serves the build.
 */
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', '');
  return {
    plugins: [react()],
    server: {
      port: 5173,
      proxy: { '/api': { target: env.API_URL ?? 'http://localhost:3000', changeOrigin: false } },
    },
    build: { outDir: 'dist', emptyOutDir: true },
  };
});
