/**
 * The CSM web page: one HTML template, one plain script and one stylesheet from this folder,
 * served as they are (no build step, no framework, nothing from a CDN). The files hold no data,
 * so they need no token; the script fetches everything from /api with the user's token.
 * Every response carries a strict Content-Security-Policy: scripts, styles and fetches from this
 * origin only, no inline code, no frames.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Hono } from 'hono';

/** The Content-Security-Policy of the page and its assets. */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Options of {@link mountWebPage}. */
export interface WebPageOptions {
  /** folder holding index.html, app.js and style.css (default: this module's folder) */
  dir?: URL;
}

interface Asset {
  body: string;
  contentType: string;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': WEB_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function read(dir: URL, name: string): string {
  const url = new URL(name, dir);
  try {
    return fs.readFileSync(url, 'utf8');
  } catch (err) {
    throw new Error(`web page: cannot read ${url.pathname}`, { cause: err });
  }
}

/**
 * Adds the web page routes to `app`: `GET /` and `GET /accounts/:id` (the links in emails) serve
 * the page; `GET /web/app.js` and `GET /web/style.css` its script and stylesheet. The files are
 * read once, here; a missing file fails at start.
 */
export function mountWebPage(app: Hono<any>, options: WebPageOptions = {}): void {
  const dir = options.dir ?? new URL('./', import.meta.url);
  const script = read(dir, 'app.js');
  const style = read(dir, 'style.css');
  // a content hash in the asset URLs: a new release is never served with an old cached script
  const version = createHash('sha256').update(script).update(style).digest('hex').slice(0, 12);
  const html = read(dir, 'index.html').replaceAll('{{version}}', version);

  const assets: Record<string, Asset> = {
    '/web/app.js': { body: script, contentType: 'text/javascript; charset=utf-8' },
    '/web/style.css': { body: style, contentType: 'text/css; charset=utf-8' },
  };
  const page: Asset = { body: html, contentType: 'text/html; charset=utf-8' };

  const send = (asset: Asset, cache: string) =>
    new Response(asset.body, { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': asset.contentType, 'cache-control': cache } });

  app.get('/', () => send(page, 'no-cache'));
  app.get('/accounts/:id', () => send(page, 'no-cache'));
  for (const [path, asset] of Object.entries(assets)) {
    app.get(path, () => send(asset, 'public, max-age=300'));
  }
  // browsers ask for it on every page; an empty answer keeps the console clean
  app.get('/favicon.ico', () => new Response(null, { status: 204, headers: { 'cache-control': 'public, max-age=86400' } }));
}
