// The pages the coordinator serves: the dashboard at /, the browser agent at /agent (a plain GET;
// the agents' WebSocket upgrades on the same path), their bundles under /assets/, and
// onnxruntime-web's wasm files under /ort/. Every response is cross-origin isolated (COOP + COEP),
// which is what lets onnxruntime-web run wasm threads in the page.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { ortWebDistDir, webDistDir } from '@litepred/web';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** A file under root, or undefined for anything that would step outside it or is not a file. */
function under(root: string, relative: string): string | undefined {
  const path = normalize(join(root, relative));
  if (!path.startsWith(root + sep)) return undefined;
  return existsSync(path) && statSync(path).isFile() ? path : undefined;
}

function send(res: ServerResponse, path: string, cache: string): void {
  res.writeHead(200, {
    ...ISOLATION,
    'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
    'Content-Length': statSync(path).size,
    'Cache-Control': cache,
  });
  if (res.req.method === 'HEAD') res.end();
  else createReadStream(path).pipe(res);
}

function plain(res: ServerResponse, status: number, text: string): true {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
  return true;
}

/** Serves the request if it is for a page or an asset; false if it is not ours (the API's). */
export function serveStatic(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const { pathname } = new URL(req.url ?? '/', 'http://x');
  const page = pathname === '/' ? 'dashboard.html' : pathname === '/agent' ? 'agent.html' : undefined;
  if (!page && !pathname.startsWith('/assets/') && !pathname.startsWith('/ort/')) return false;
  if (!existsSync(join(webDistDir, 'agent.html')))
    return plain(res, 503, 'The pages are not built: run `npm run build` (it bundles web/ into web/dist/).\n');
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    return plain(res, 400, `not a valid URL path: ${pathname}\n`); // a thrown URIError here would take the coordinator down
  }
  const file = page
    ? join(webDistDir, page)
    : relative.startsWith('/assets/')
      ? under(webDistDir, relative.slice('/assets/'.length))
      : /^\/ort\/ort-wasm-[\w.-]+\.(wasm|mjs)$/.test(relative)
        ? under(ortWebDistDir, relative.slice('/ort/'.length))
        : undefined;
  if (!file) return plain(res, 404, `no such file: ${pathname}\n`);
  // Pages are small and change with every build; bundles and wasm are fetched once per page load.
  send(res, file, page ? 'no-cache' : 'public, max-age=300');
  return true;
}
