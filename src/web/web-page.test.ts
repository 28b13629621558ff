import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { mountWebPage, WEB_CSP } from './web-page.ts';

const app = new Hono();
mountWebPage(app);

describe('web page routes', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', '<title>Forewarn'],
    ['/accounts/acme-corp', 'text/html; charset=utf-8', '<title>Forewarn'],
    ['/web/app.js', 'text/javascript; charset=utf-8', "'use strict'"],
    ['/web/style.css', 'text/css; charset=utf-8', ':root'],
  ])('GET %s answers %s with a strict CSP', async (p, type, text) => {
    const res = await app.request(p);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-security-policy')).toBe(WEB_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain(text);
  });

  it('allows only same-origin scripts, styles and fetches, nothing inline', () => {
    expect(WEB_CSP).toContain("default-src 'none'");
    expect(WEB_CSP).toContain("script-src 'self'");
    expect(WEB_CSP).toContain("connect-src 'self'");
    expect(WEB_CSP).not.toContain('unsafe-inline');
    expect(WEB_CSP).not.toContain('unsafe-eval');
  });

  it('links the assets with a content version and has no inline script or style', async () => {
    const html = await (await app.request('/')).text();
    expect(html).not.toContain('{{version}}');
    expect(html).toMatch(/<script src="\/web\/app\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/web\/style\.css\?v=[0-9a-f]{12}">/);
    expect(html).not.toMatch(/<script>|<style|style="|\son[a-z]+="/);
    // no third-party origin anywhere in the page
    expect(html).not.toMatch(/(?:src|href)="https?:/);
  });

  it('fails at start, naming the file, when a page file is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-web-'));
    try {
      fs.writeFileSync(path.join(dir, 'index.html'), '<html></html>');
      fs.writeFileSync(path.join(dir, 'style.css'), '');
      expect(() => mountWebPage(new Hono(), { dir: pathToFileURL(`${dir}/`) })).toThrow(/web page: cannot read .*app\.js/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
