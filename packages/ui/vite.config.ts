import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run build -w @assay/ui` writes dist/, which `assay serve` serves at `/`.
// `npm run dev -w @assay/ui` proxies /api to a server on ASSAY_URL (default http://127.0.0.1:4400).
// The workspaces are bundled from their TypeScript sources (the `assay-source` export condition).
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['assay-source', 'module', 'browser', 'development|production'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  worker: { format: 'es' },
  server: { proxy: { '/api': process.env.ASSAY_URL ?? 'http://127.0.0.1:4400' } },
});
