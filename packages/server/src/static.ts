import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

/**
 * The web UI's build: the `dist/` folder of the `@assay/ui` package (a dependency of this one, so
 * an installed server has it; in this repository `npm install` builds it).
 */
export function defaultUiDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@assay/ui/package.json')), 'dist');
  } catch {
    return fileURLToPath(new URL('../../ui/dist', import.meta.url));
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * Serves the built UI for every GET/HEAD outside `/api`: files from `dir`, and `index.html` for
 * any other path (client-side routes). Vite's hashed files under `/assets/` are cached for a year;
 * `index.html` is revalidated on every load so a new build is picked up at once.
 */
export function mountUi(app: Hono, dir: string = defaultUiDir()): void {
  const root = resolve(dir);
  const indexFile = join(root, 'index.html');

  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    const path = c.req.path;
    if (path === '/api' || path.startsWith('/api/')) return next();
    let rel: string;
    try {
      rel = decodeURIComponent(path);
    } catch {
      return next();
    }
    const file = resolve(root, `.${rel}`);
    const inside = file === root || file.startsWith(root + sep);
    if (inside && !rel.includes('\u0000') && file !== root) {
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) {
        const hashed = rel.startsWith('/assets/');
        return new Response(c.req.method === 'HEAD' ? null : new Uint8Array(await readFile(file)), {
          status: 200,
          headers: {
            'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
            'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
            'x-content-type-options': 'nosniff',
          },
        });
      }
    }
    // A missing asset (a file name with an extension) is a plain 404, not the app shell.
    if (extname(rel) !== '' && rel !== '/index.html') return next();
    if (!existsSync(indexFile)) {
      return c.text(
        `The Assay web UI is not built (no ${indexFile}). In the Assay repository, \`npm install\` builds it (or \`npm run build -w @assay/ui\`); the API is at /api.`,
        404,
      );
    }
    return new Response(c.req.method === 'HEAD' ? null : new Uint8Array(await readFile(indexFile)), {
      status: 200,
      headers: { 'content-type': TYPES['.html'], 'cache-control': 'no-cache' },
    });
  });
}
