// End-to-end tests of ranked-choice voting in a real headless Chromium, on the demo's ranked
// question "Rank these pizza toppings, favourite first" (results always visible):
//   1. JavaScript off: the numbered selects are posted as a plain form (303 back to the page);
//      the API's ballot is the ranking.
//   2. JavaScript on, mouse: dragging a choice onto another reorders the list, the selects
//      follow, and the vote is the list's order.
//   3. JavaScript on, keyboard: the "Move … up" button moves its choice, keeps the focus on it
//      and says the new position in the live region; the vote is the new order.
// Starts its own server (demo data, throwaway SQLite file, free port), like vote.test.mjs.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, existsSync, openSync, closeSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const BIN = process.env.BEEBETA_BIN
  ? resolve(process.cwd(), process.env.BEEBETA_BIN)
  : resolve(REPO, "target", "debug", "beebeta");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const STEP_TIMEOUT = 10_000;
const TITLE = "Rank these pizza toppings, favourite first";

let server = null;
let serverLog = "";
let tmp = null;
let baseUrl = null;
let browser = null;
let question = null; // { id, path, choices: [id, ...] }

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function readLog() {
  try {
    return readFileSync(serverLog, "utf8").slice(-4000);
  } catch {
    return "(no server log)";
  }
}

async function waitForHealthy(url, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`beebeta exited early:\n${readLog()}`);
    }
    try {
      const resp = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (resp.status === 200) {
        return;
      }
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`beebeta did not become healthy:\n${readLog()}`);
}

function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) {
    return Promise.resolve();
  }
  const child = server;
  return new Promise((ok) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), 8000);
    child.once("exit", () => {
      clearTimeout(killer);
      ok();
    });
    child.kill("SIGTERM");
  });
}

process.on("exit", () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill("SIGKILL");
  }
});

async function newContext(opts = {}) {
  const context = await browser.newContext({ baseURL: baseUrl, ...opts });
  context.setDefaultTimeout(STEP_TIMEOUT);
  return context;
}

/** The caller's ballot (the ranking) as the API says it. */
async function apiBallot(context) {
  const resp = await context.request.get(`${baseUrl}/api/v1/questions/${question.id}`);
  assert.equal(resp.status(), 200);
  const data = await resp.json();
  assert.equal(data.kind, "ranked");
  return data.ballot ? data.ballot.choices : null;
}

/** The choice ids in the order the list shows them. */
async function shownOrder(page) {
  return page.$$eval("form.rank-form .rank-item", (items) => items.map((i) => Number(i.getAttribute("data-choice"))));
}

/** The select value of each choice, by id. */
async function selectValues(page) {
  return page.$$eval("form.rank-form .rank-select", (selects) =>
    Object.fromEntries(selects.map((s) => [Number(s.name.slice(5, -1)), s.value])),
  );
}

async function submitRanking(page) {
  const posted = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === `/q/${question.id}/vote`,
  );
  await page.locator("form.rank-form button[type=submit]").click();
  const resp = await posted;
  assert.equal(resp.status(), 303, "the ranking is posted and redirected back");
  await page.locator(".notice").first().waitFor();
}

before(async () => {
  assert.ok(existsSync(BIN), `beebeta binary not found at ${BIN}`);
  tmp = mkdtempSync(join(tmpdir(), "beebeta-e2e-rank-"));
  serverLog = join(tmp, "server.log");
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const logFd = openSync(serverLog, "w");
  server = spawn(BIN, [], {
    cwd: REPO,
    env: {
      ...process.env,
      BEEBETA_DATABASE_URL: `sqlite://${join(tmp, "e2e.db")}`,
      BEEBETA_SECRET_FILE: join(tmp, "secret"),
      BEEBETA_MEDIA: `file://${join(tmp, "media")}`,
      BEEBETA_LIMITS: "off",
      BEEBETA_SEED_DEMO: "true",
      BEEBETA_PUBLIC_URL: baseUrl,
      ROCKET_ADDRESS: "127.0.0.1",
      ROCKET_PORT: String(port),
    },
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  await waitForHealthy(`${baseUrl}/healthz`, 45_000);
  const found = await (await fetch(`${baseUrl}/api/v1/questions?q=${encodeURIComponent("pizza toppings")}`)).json();
  const item = found.items.find((i) => i.title === TITLE);
  assert.ok(item, `the demo's ranked question: ${JSON.stringify(found)}`);
  const q = await (await fetch(`${baseUrl}/api/v1/questions/${item.id}`)).json();
  question = { id: q.id, path: q.url, choices: q.choices.map((c) => c.id) };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
});

after(async () => {
  if (browser) {
    await browser.close();
  }
  await stopServer();
  if (tmp) {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("without JavaScript: numbered selects posted as a plain form", { timeout: 55_000 }, async () => {
  const context = await newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(question.path);
  const [a, b, c] = question.choices;
  assert.equal(await page.locator("form.rank-form .rank-select").count(), question.choices.length);
  await page.selectOption(`select[name="rank[${c}]"]`, "1");
  await page.selectOption(`select[name="rank[${a}]"]`, "2");
  await page.selectOption(`select[name="rank[${b}]"]`, "3");
  await submitRanking(page);
  assert.deepEqual(await apiBallot(context), [c, a, b]);
  // The page shows the ballot back in the selects, and the rounds.
  assert.equal(await page.locator(`select[name="rank[${c}]"]`).inputValue(), "1");
  await page.locator("table.runoff-table").waitFor();
  assert.ok(await page.locator("svg.runoff-chart").isVisible());
  // A gap is refused with the page again, and nothing changes.
  await page.selectOption(`select[name="rank[${b}]"]`, "4");
  await page.locator("form.rank-form button[type=submit]").click();
  await page.locator(".notice", { hasText: "without gaps" }).waitFor();
  assert.deepEqual(await apiBallot(context), [c, a, b]);
  await context.close();
});

test("with JavaScript: drag and drop orders the choices", { timeout: 55_000 }, async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(question.path);
  await page.locator("form.rank-form.rank-enhanced").waitFor();
  const before = await shownOrder(page);
  assert.deepEqual(before, question.choices, "no ballot yet: the question's order");
  assert.equal(await page.locator("form.rank-form .rank-select").first().isVisible(), false, "selects hidden");
  const last = before[before.length - 1];
  await page
    .locator(`.rank-item[data-choice="${last}"]`)
    .dragTo(page.locator(`.rank-item[data-choice="${before[0]}"]`), { targetPosition: { x: 20, y: 2 } });
  const after = await shownOrder(page);
  assert.deepEqual(after, [last, ...before.slice(0, -1)], "the dragged choice is first");
  const values = await selectValues(page);
  assert.equal(values[last], "1");
  assert.equal(values[before[0]], "2");
  assert.match(await page.locator(".rank-status").textContent(), /position 1 of/);
  await submitRanking(page);
  assert.deepEqual(await apiBallot(context), after);
  // Reloaded, the list starts in the ballot's order.
  await page.locator("form.rank-form.rank-enhanced").waitFor();
  assert.deepEqual(await shownOrder(page), after);
  await context.close();
});

test("with JavaScript: keyboard buttons move a choice and announce it", { timeout: 55_000 }, async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(question.path);
  await page.locator("form.rank-form.rank-enhanced").waitFor();
  const before = await shownOrder(page);
  const third = before[2];
  const label = await page.locator(`.rank-item[data-choice="${third}"] .rank-label`).textContent();
  const up = page.getByRole("button", { name: `Move ${label.trim()} up` });
  await up.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Space");
  const after = await shownOrder(page);
  assert.equal(after[0], third, "moved up twice: first");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.closest(".rank-item")?.getAttribute("data-choice"));
  assert.equal(Number(focused), third, "the focus stays with the moved choice");
  assert.match(await page.locator(".rank-status").textContent(), new RegExp(`${label.trim()}: position 1 of ${before.length}`));
  assert.equal(await page.locator(".rank-status").getAttribute("aria-live"), "assertive");
  // Tab reaches the buttons; Enter on "down" moves it back one.
  const down = page.getByRole("button", { name: `Move ${label.trim()} down` });
  await down.focus();
  await page.keyboard.press("Enter");
  assert.equal((await shownOrder(page))[1], third);
  const order = await shownOrder(page);
  await submitRanking(page);
  assert.deepEqual(await apiBallot(context), order);
  await context.close();
});
