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
import { startServer, launchBrowser, newContext as contextOn, tearDown } from "./support.mjs";

const TITLE = "Rank these pizza toppings, favourite first";

let server = null;
let baseUrl = null;
let browser = null;
let question = null; // { id, path, choices: [id, ...] }

function newContext(opts = {}) {
  return contextOn(browser, baseUrl, opts);
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
  server = await startServer("rank");
  baseUrl = server.base;
  const found = await (await fetch(`${baseUrl}/api/v1/questions?q=${encodeURIComponent("pizza toppings")}`)).json();
  const item = found.items.find((i) => i.title === TITLE);
  assert.ok(item, `the demo's ranked question: ${JSON.stringify(found)}`);
  const q = await (await fetch(`${baseUrl}/api/v1/questions/${item.id}`)).json();
  question = { id: q.id, path: q.url, choices: q.choices.map((c) => c.id) };
  browser = await launchBrowser();
});

after(() => tearDown(browser, server));

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
