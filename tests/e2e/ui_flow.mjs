// The web UI in headless Chromium: sign in, find an issue a real SDK sent, open it, resolve it, check
// the status, and save screenshots to target/e2e-artifacts/.
//
//   FAULTLINE_BASE_URL=http://127.0.0.1:9000 ADMIN_EMAIL=… ADMIN_PASSWORD=… node tests/e2e/ui_flow.mjs
//
// Optional: UI_ISSUE_QUERY (search text that finds the SDK's issue; default: the newest unresolved
// issue). Prints `ui: N passed, M failed` and exits non-zero on failure. playwright-core is resolved
// from target/e2e-cache/node (installed by tests/e2e/run.sh) or NODE_PATH.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "target/e2e-cache/node/package.json"));
const { chromium } = require("playwright-core");

const base = (process.env.FAULTLINE_BASE_URL || "http://127.0.0.1:9000").replace(/\/$/, "");
const email = process.env.ADMIN_EMAIL;
const password = process.env.ADMIN_PASSWORD;
const query = process.env.UI_ISSUE_QUERY || "is:unresolved";
const artifacts = process.env.E2E_ARTIFACTS || path.join(root, "target/e2e-artifacts");
mkdirSync(artifacts, { recursive: true });

let passed = 0, failed = 0;
function ok(what) { passed++; console.log(`  ok    ${what}`); }
function fail(what, err) { failed++; console.log(`  FAIL  ${what}${err ? ": " + (err.message || err) : ""}`); }
async function step(what, fn) {
  try { await fn(); ok(what); return true; } catch (err) { fail(what, err); return false; }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `ui-${name}.png`), fullPage: true });
  if (!email || !password) throw new Error("set ADMIN_EMAIL and ADMIN_PASSWORD");

  const signedIn = await step("sign in", async () => {
    await page.goto(`${base}/organizations/default/issues/`);
    if (!page.url().includes("/login")) throw new Error(`expected the login page, got ${page.url()}`);
    await shot("login");
    await page.fill("input[name=email]", email);
    await page.fill("input[name=password]", password);
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    if (page.url().includes("/login")) throw new Error("still on the login page");
  });
  let issueUrl = null;
  if (signedIn) await step("find the SDK's issue in the stream", async () => {
    await page.goto(`${base}/organizations/default/issues/?query=${encodeURIComponent(query)}`);
    await page.waitForSelector("table.issues a.title", { timeout: 10000 });
    await shot("stream");
    const link = page.locator("table.issues a.title").first();
    issueUrl = new URL(await link.getAttribute("href"), base).toString();
    console.log(`        issue: ${(await link.innerText()).slice(0, 100)}`);
  });
  if (issueUrl) await step("open the issue and see its event", async () => {
    await page.goto(issueUrl);
    await page.waitForSelector("#event", { timeout: 10000 });
    await shot("issue");
    const status = await page.getAttribute("[data-status]", "data-status");
    if (status !== "unresolved") throw new Error(`status is ${status}`);
  });
  if (issueUrl) await step("resolve it", async () => {
    await Promise.all([page.waitForNavigation(), page.click("#resolve")]);
    const status = await page.getAttribute("[data-status]", "data-status");
    if (status !== "resolved") throw new Error(`status is ${status}`);
    if (!(await page.locator(".activity").innerText()).includes("resolved the issue")) throw new Error("no activity entry");
    await shot("resolved");
  });
  if (issueUrl) await step("the stream no longer lists it as unresolved; keyboard search focuses", async () => {
    await page.goto(`${base}/organizations/default/issues/?query=is%3Aresolved`);
    const hrefs = await page.locator("table.issues a.title").evaluateAll((as) => as.map((a) => a.href));
    if (!hrefs.includes(issueUrl)) throw new Error("not in is:resolved");
    await page.keyboard.press("/");
    if ((await page.evaluate(() => document.activeElement && document.activeElement.id)) !== "search") throw new Error("/ did not focus search");
    await shot("stream-resolved");
  });
} catch (err) {
  fail("ui flow", err);
} finally {
  await browser.close();
}
console.log(`ui: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
