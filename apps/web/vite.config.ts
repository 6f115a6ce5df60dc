/**
 * Vite for the web client. `npm run dev` serves it with hot reload and forwards `/api` to the
 * marketplace (`npm start`, port 3000 by default; API_URL points elsewhere), so the browser sees
 * one origin and the session cookie works as it does when the marketplace serves the build.
 *
 * The build writes each script, style and page of 1 KB or more beside a brotli (`.br`, quality 11)
 * and a gzip (`.gz`, level 9) copy of it, compressed once here rather than for every request: the
 * marketplace and the web image's nginx send those to a browser that accepts them.
 *
 * The dev server (and `vite preview`) sends the security headers that leave hot reload alone: no
 * framing (`frame-ancestors 'none'`, the policy's only directive, and `X-Frame-Options`),
 * `nosniff` and the API's `Referrer-Policy`. The full policy of the marketplace and the web image
 * is not sent here: Vite's dev client injects inline scripts and styles and opens a WebSocket.
 */
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';
import { compression, defineAlgorithm } from 'vite-plugin-compression2';

const DEV_SECURITY_HEADERS = {
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

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
      headers: DEV_SECURITY_HEADERS,
      proxy: { '/api': { target: env.API_URL ?? 'http://localhost:3000', changeOrigin: false } },
    },
    preview: { headers: DEV_SECURITY_HEADERS },
    build: { outDir: 'dist', emptyOutDir: true },
  };
});
