#!/usr/bin/env node
/**
 * Serves the browser demo on 127.0.0.1: the page, its modules, the digits
 * data, the built gradtx packages (`packages/*\/dist`) and the tfjs ES module
 * bundles it maps with an import map. No bundler: the browser loads plain ES
 * modules.
 *
 *   node examples/browser/serve.mjs [--port 5173]     (PORT=0 picks a free port)
 *
 * Build the packages first (`pnpm build` at the root) so the dist folders exist.
 * Importing this file gives `startServer({ port })` (used by the page test).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

/** The folder of an installed package, resolved from a workspace package that depends on it. */
function packageDir(name, from) {
  const require = createRequire(join(repo, from, 'package.json'));
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** URL prefix -> folder. The page's import map points at these prefixes. */
export function mounts() {
  return {
    // the union bundle: tfjs-core with every gradient registered (and the cpu and webgl backends)
    '/vendor/tfjs/': packageDir('@tensorflow/tfjs', 'examples'),
    '/vendor/tfjs-backend-webgpu/': packageDir('@tensorflow/tfjs-backend-webgpu', 'packages/webgpu'),
    '/vendor/tfjs-backend-wasm/': packageDir('@tensorflow/tfjs-backend-wasm', 'examples'),
    '/pkg/core/': join(repo, 'packages', 'core', 'dist'),
    '/pkg/schedules/': join(repo, 'packages', 'schedules', 'dist'),
    '/pkg/webgpu/': join(repo, 'packages', 'webgpu', 'dist'),
    '/data/': join(repo, 'examples', 'data'),
    '/': here,
  };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The file a URL path maps to, or null (outside every mount, or missing). */
function resolvePath(table, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (path === '/') path = '/index.html';
  for (const [prefix, dir] of Object.entries(table)) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return null;
    if (existsSync(file) && statSync(file).isFile()) return file;
    return null;
  }
  return null;
}

/** Starts the server; resolves with `{ url, close }` once it listens. */
export function startServer({ port = 5173, host = '127.0.0.1', quiet = false } = {}) {
  const table = mounts();
  for (const p of ['/pkg/core/', '/pkg/schedules/']) {
    if (!existsSync(join(table[p], 'index.js'))) throw new Error(`${table[p]}/index.js is missing: build the packages first (pnpm build)`);
  }
  const server = createServer((req, res) => {
    const file = resolvePath(table, req.url ?? '/');
    if (file === null || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const url = `http://${host}:${addr.port}/`;
      if (!quiet) console.log(`gradtx browser demo: ${url}  (Ctrl-C to stop)`);
      resolve({ url, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const i = process.argv.indexOf('--port');
  const port = Number(i > 0 ? process.argv[i + 1] : (process.env.PORT ?? 5173));
  startServer({ port }).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
