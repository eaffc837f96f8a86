// Load `sfwizard --web` in a real Chromium: start the app from textual-serve's page and wait until its terminal
// is drawn (the served wizard renders to a canvas; the test reads what the app did from its session file).
// usage: node web_wizard.mjs URL screenshot.png   (puppeteer-core from $SFW_NODE_MODULES)
import { createRequire } from "module";
import { join } from "path";
const require = createRequire(join(process.env.SFW_NODE_MODULES, "package.json"));
const puppeteer = require("puppeteer-core");
const [url, shot] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.SFW_CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  // every resource the page asks for must come from the printed address (no fonts.googleapis.com)
  const origin = new URL(url).origin;
  page.on("request", (req) => {
    const where = req.url();
    if (!where.startsWith(origin) && !where.startsWith("data:")) console.log("EXTERNAL " + where);
  });
  page.on("console", (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) console.log("CSP " + msg.text());
  });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  const start = await page.waitForSelector("button, .start, #start", { timeout: 15000 }).catch(() => null);
  if (start) await start.click().catch(() => {});
  await page.waitForSelector(".xterm-screen", { visible: true, timeout: 30000 });
  // the intro dialog goes once the app's first frame arrives
  await page.waitForFunction(() => {
    const intro = document.querySelector(".dialog-container, .intro");
    return !intro || getComputedStyle(intro).display === "none" || getComputedStyle(intro).opacity === "0";
  }, { timeout: 60000 });
  await new Promise((r) => setTimeout(r, 1500));  // let the first screen draw before the picture is taken
  await page.screenshot({ path: shot });
  console.log("DRAWN");
} finally {
  await browser.close();
}
