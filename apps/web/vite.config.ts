/**
 * Vite for the web client. `npm run dev` serves it with hot reload and forwards `/api` to the
 * marketplace (`npm start`, port 3000 by default; API_URL points elsewhere), so the browser sees
 * one origin and the session cookie works as it does when the marketplace serves the build.
 *
 * The build writes each script, style and page of 1 KB or more beside a brotli (`.br`, quality 11)
 * and a gzip (`.gz`, level 9) copy of it, compressed once here rather than for every request: the
 * marketplace and the web image's nginx send those to a browser that accepts them.
 */
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';
import { compression, defineAlgorithm } from 'vite-plugin-compression2';

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', '');
  return {
    plugins: [
      react(),
      compression({
        threshold: 1024,
        algorithms: [defineAlgorithm('brotliCompress'), defineAlgorithm('gzip', { level: 9 })],
      }),
    ],
    server: {
      port: 5173,
      proxy: { '/api': { target: env.API_URL ?? 'http://localhost:3000', changeOrigin: false } },
    },
    build: { outDir: 'dist', emptyOutDir: true },
  };
});
