// Drive @sentry/browser in headless Chromium against Faultline.
//
// Usage: node drive.mjs DSN OUT.json SCREENSHOT.png   (from a directory whose node_modules has
// @sentry/browser, esbuild and playwright-core; run.sh copies this folder there)
//
// Bundles @sentry/browser with esbuild (the npm package ships no browser bundle), serves index.html and
// the bundle from its own HTTP server on another port than Faultline's (so the SDK's requests are
// cross-origin), opens the page in Debian's Chromium through playwright-core, waits for window.done,
// prints the browser console and failed requests, saves a screenshot and writes window.e2eResult.
import http from 'node:http';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const [dsn, out, screenshot] = process.argv.slice(2);
const faultlineOrigin = new URL(dsn).origin;

const bundle = await esbuild.build({
  entryPoints: [path.join(here, 'entry.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  write: false,
  logLevel: 'warning',
});
const files = {
  '/': ['text/html; charset=utf-8', readFileSync(path.join(here, 'index.html'))],
  '/sentry.js': ['text/javascript; charset=utf-8', bundle.outputFiles[0].contents],
};
const server = http.createServer((req, res) => {
  const file = files[new URL(req.url, 'http://x').pathname];
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-store' }).end(file[1]);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const pageOrigin = `http://127.0.0.1:${server.address().port}`;
console.log(`page origin ${pageOrigin} (bundle ${bundle.outputFiles[0].contents.length} bytes), Faultline origin ${faultlineOrigin}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // playwright gives every launch a fresh temporary profile (--user-data-dir)
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let status = 0;
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => {
    const line = `[console.${msg.type()}] ${msg.text()}`;
    if (msg.type() === 'error') consoleErrors.push(line);
    console.log('  ' + line);
  });
  page.on('pageerror', (err) => {
    consoleErrors.push(`[pageerror] ${err}`);
    console.log(`  [pageerror] ${err}`);
  });
  page.on('requestfailed', (req) => console.log(`  [requestfailed] ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.url().startsWith(faultlineOrigin)) {
      const allow = res.headers()['access-control-allow-origin'];
      console.log(`  [response] ${res.request().method()} ${res.url().replace(/sentry_key=\w+/, 'sentry_key=…')} -> ${res.status()} (access-control-allow-origin: ${allow})`);
    }
  });

  const url = `${pageOrigin}/?dsn=${encodeURIComponent(dsn)}`;
  await page.goto(url);
  await page.waitForFunction(() => window.done === true, null, { timeout: 30000 });
  const result = await page.evaluate(() => window.e2eResult);
  result.pageOrigin = pageOrigin;
  result.consoleErrors = consoleErrors;
  mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  writeFileSync(out, JSON.stringify(result, null, 2));

  console.log(`${result.sdk}: event id ${result.eventId}; flushed=${result.flushed}; screenshot ${screenshot}`);
  for (const request of result.wire) {
    console.log(`  POST envelope ${JSON.stringify(request.items)} -> HTTP ${request.status}${request.error ? ' ' + request.error : ''}`);
    for (const s of request.sessions || []) console.log(`      session: init=${s.init}, status=${s.status}, errors=${s.errors}, attrs=${JSON.stringify(s.attrs)}`);
  }
  console.log(`  preflighted POST store -> ${JSON.stringify(result.preflight)}`);
  const bad = result.wire.filter((r) => r.status !== 200);
  const events = result.wire.flatMap((r) => r.items).filter((t) => t === 'event').length;
  if (result.errors.length || bad.length || !result.flushed || !result.eventId || events !== 1 || result.preflight?.status !== 200) {
    console.error(`browser sender: errors ${JSON.stringify(result.errors)}, non-200 responses ${JSON.stringify(bad)}, ${events} event envelopes sent (expected 1)`);
    status = 1;
  }
} catch (err) {
  console.error(`browser sender failed: ${err.stack || err}`);
  status = 1;
} finally {
  await browser.close();
  server.close();
}
process.exit(status);
