// A real browser walks the sandbox's Salesforce login: authorize → login → Allow (or Deny) → loopback.
//
// Configured by environment (the pytest in this folder sets it):
//   SFW_BASE_URL, SFW_CLIENT_ID, SFW_USERNAME, SFW_PASSWORD   where and who
//   SFW_SPKI            base64 SHA-256 of the sandbox leaf's public key: the only certificate Chromium
//                       accepts beyond its own roots (verification stays on for everything else)
//   SFW_CHALLENGE       the PKCE S256 challenge (the verifier stays with the caller)
//   SFW_DECISION        allow | deny
//   SFW_SCREENSHOT      optional: where to save a PNG of the Allow page
//   SFW_NODE_MODULES    folder whose node_modules holds puppeteer-core
//   SFW_CHROMIUM        the browser (default /usr/bin/chromium)
// Prints one JSON line with what reached the loopback listener; exits non-zero on any failure.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const require = createRequire(join(env('SFW_NODE_MODULES'), 'package.json'));
const puppeteer = require('puppeteer-core');

const base = env('SFW_BASE_URL');
const decision = env('SFW_DECISION', 'allow');
const state = `st-${Date.now()}`;

// The loopback listener, as `sf org login web` runs one on :1717.
let resolveRedirect;
const redirected = new Promise((resolve) => { resolveRedirect = resolve; });
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end('<!DOCTYPE html><title>Done</title><p>Authorization finished. You can close this window.</p>');
  resolveRedirect({ path: url.pathname, params: Object.fromEntries(url.searchParams) });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const redirectUri = `http://127.0.0.1:${server.address().port}/OauthRedirect`;

const authorizeUrl = `${base}/services/oauth2/authorize?` + new URLSearchParams({
  response_type: 'code', client_id: env('SFW_CLIENT_ID'), redirect_uri: redirectUri, state,
  code_challenge: env('SFW_CHALLENGE'), code_challenge_method: 'S256', scope: 'api refresh_token id',
});

const profile = mkdtempSync(join(tmpdir(), 'sfw-chromium-'));
const browser = await puppeteer.launch({
  executablePath: env('SFW_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  userDataDir: profile,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${env('SFW_SPKI')}`],
});
const timer = setTimeout(() => { console.error('timed out'); process.exit(3); }, 60_000);
let result;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width: 900, height: 820 });
  const first = await page.goto(authorizeUrl, { waitUntil: 'domcontentloaded' });
  if (first.status() !== 200) throw new Error(`authorize answered ${first.status()}`);
  await page.type('#username', env('SFW_USERNAME'));
  await page.type('#password', env('SFW_PASSWORD'));
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#Login')]);
  await page.waitForSelector('#allow');
  const allowPage = await page.evaluate(() => ({
    title: document.querySelector('h1')?.textContent,
    user: document.querySelector('#user')?.textContent,
    org: document.querySelector('#org')?.textContent,
    orgId: document.querySelector('#org-id')?.textContent,
    orgType: document.querySelector('#org-type')?.textContent,
  }));
  if (process.env.SFW_SCREENSHOT) await page.screenshot({ path: process.env.SFW_SCREENSHOT, fullPage: true });
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click(decision === 'deny' ? '#deny' : '#allow')]);
  const landed = await redirected;
  result = { ok: true, sentState: state, redirectUri, allowPage, landed, finalUrl: page.url() };
} catch (err) {
  result = { ok: false, error: String(err && err.stack || err) };
} finally {
  clearTimeout(timer);
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
