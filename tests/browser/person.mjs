// The person at a real browser: opens the URL sfwizard printed (or handed to $BROWSER), types the device
// code if asked, logs in, clicks Allow or Deny, and follows the redirect to sfwizard's own loopback listener.
//
//   node person.mjs URL
// Environment: SFW_USERNAME, SFW_PASSWORD, SFW_DECISION (allow|deny), SFW_USER_CODE (device flow),
//   SFW_SPKI (base64 SHA-256 of the sandbox leaf's public key: the one certificate accepted beyond
//   Chromium's own roots), SFW_NODE_MODULES (holds puppeteer-core), SFW_CHROMIUM, SFW_RESULT (a file to
//   write the JSON result to; $BROWSER's stdout is sfwizard's).
// Exits 0 when the flow reached its end (the loopback page, or the device flow's closing page).

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const require = createRequire(join(env('SFW_NODE_MODULES'), 'package.json'));
const puppeteer = require('puppeteer-core');

const start = process.argv[2];
const decision = env('SFW_DECISION', 'allow');
const profile = mkdtempSync(join(tmpdir(), 'sfw-person-'));
const browser = await puppeteer.launch({
  executablePath: env('SFW_CHROMIUM', '/usr/bin/chromium'), headless: true, userDataDir: profile,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${env('SFW_SPKI')}`],
});
const timer = setTimeout(() => { console.error('person.mjs: timed out'); process.exit(3); }, 60_000);
const steps = [];
let result;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(start, { waitUntil: 'domcontentloaded' });
  for (let i = 0; i < 8; i += 1) {
    const url = new URL(page.url());
    if (['localhost', '127.0.0.1'].includes(url.hostname) && url.pathname === '/OauthRedirect') break;
    const clickAndWait = (selector) => Promise.all([
      page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click(selector)]);
    if (await page.$('#user_code')) {
      steps.push('code');
      await page.$eval('#user_code', (el) => { el.value = ''; });
      await page.type('#user_code', env('SFW_USER_CODE'));
      await clickAndWait('#connect');
    } else if (await page.$('#username')) {
      steps.push('login');
      await page.$eval('#username', (el) => { el.value = ''; });
      await page.type('#username', env('SFW_USERNAME'));
      await page.type('#password', env('SFW_PASSWORD'));
      await clickAndWait('#Login');
    } else if (await page.$('#allow')) {
      steps.push(decision);
      await clickAndWait(decision === 'deny' ? '#deny' : '#allow');
    } else {
      break; // a closing page (the device flow's), or an error page: report what it says
    }
  }
  const heading = await page.evaluate(() => document.querySelector('h1')?.textContent ?? '');
  const text = await page.evaluate(() => document.body?.innerText ?? '');
  result = { ok: true, steps, finalUrl: page.url().replace(/code=[^&]+/, 'code=…'), heading, text };
} catch (err) {
  result = { ok: false, steps, error: String(err && err.stack || err) };
} finally {
  clearTimeout(timer);
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
if (process.env.SFW_RESULT) writeFileSync(process.env.SFW_RESULT, JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
