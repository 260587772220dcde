// End-to-end voting tests for Beebeta in a real headless Chromium.
//
// Starts its own beebeta server (demo data, throwaway SQLite file, free port on
// 127.0.0.1), drives the system Chromium through playwright-core and stops the
// server again, also when a test fails. Run with `./run.sh` or
// `node --test vote.test.mjs` from this folder.
//
// Env:
//   BEEBETA_BIN      server binary (default: ../../target/debug/beebeta)
//   CHROMIUM_PATH    browser binary (default: /usr/bin/chromium)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BIN, HERE, STEP_TIMEOUT, startServer, launchBrowser, newContext as contextOn, tearDown } from "./support.mjs";

const OUT = join(HERE, "out");

const TEST_TIMEOUT = 55_000; // each test stays under 60 s
const QUESTION_TITLE = "Tabs or spaces for indentation?";

let server = null; // support.mjs's Server
let baseUrl = null;
let browser = null;
let question = null; // { id, path, url, choices: [id, ...] }

// ---------- helpers ----------

/** Votes shown in the #results row of one choice (e.g. "93 votes" -> 93). */
async function shownVotes(page, choiceId) {
  const text = await page
    .locator(`#results [data-choice="${choiceId}"] .result-votes`)
    .textContent({ timeout: STEP_TIMEOUT });
  const m = /(\d+)\s+votes?/.exec(text || "");
  assert.ok(m, `no vote count in results row of choice ${choiceId}: ${JSON.stringify(text)}`);
  return Number(m[1]);
}

async function shownCounts(page) {
  const counts = {};
  for (const id of question.choices) {
    counts[id] = await shownVotes(page, id);
  }
  return counts;
}

function choiceInput(page, choiceId) {
  return page.locator(`form.vote-form input[name="choice"][value="${choiceId}"]`);
}

async function checkedChoices(page) {
  const out = [];
  for (const id of question.choices) {
    if (await choiceInput(page, id).isChecked()) {
      out.push(id);
    }
  }
  return out;
}

/** Wait (in the page, JS on) until the results row of a choice shows `n` votes. */
async function waitForShownVotes(page, choiceId, n) {
  await page.waitForFunction(
    ([id, want]) => {
      const el = document.querySelector(`#results [data-choice="${id}"] .result-votes`);
      const m = el && /(\d+)\s+votes?/.exec(el.textContent || "");
      return !!m && Number(m[1]) === want;
    },
    [choiceId, n],
    { timeout: STEP_TIMEOUT },
  );
}

/**
 * Submit a plain (non-JS) form and follow its redirect: asserts the POST got a
 * 303 to the canonical question URL and waits for the flash notice there.
 */
async function submitPlain(page, buttonSelector, postPath, noticeText) {
  const postDone = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === postPath,
    { timeout: STEP_TIMEOUT },
  );
  await page.locator(buttonSelector).click({ timeout: STEP_TIMEOUT });
  const resp = await postDone;
  assert.equal(resp.status(), 303, `POST ${postPath} should answer 303`);
  const location = resp.headers()["location"];
  assert.ok(location, `POST ${postPath} has no Location header`);
  assert.equal(new URL(location, baseUrl).pathname, question.path, "redirect goes to the canonical question URL");
  await page.locator(".notice", { hasText: noticeText }).waitFor({ timeout: STEP_TIMEOUT });
  await page.waitForLoadState("load", { timeout: STEP_TIMEOUT });
  assert.equal(page.url(), question.url, "landed back on the canonical question URL");
}

async function apiQuestion(context) {
  const resp = await context.request.get(`${baseUrl}/api/v1/questions/${question.id}`, {
    headers: { Accept: "application/json" },
    timeout: STEP_TIMEOUT,
  });
  assert.equal(resp.status(), 200, "GET /api/v1/questions/<id>");
  return resp.json();
}

function apiVotes(data, choiceId) {
  const row = data.results.choices.find((c) => String(c.id) === String(choiceId));
  assert.ok(row, `API results have no choice ${choiceId}`);
  return row.votes;
}

function newContext(opts = {}) {
  return contextOn(browser, baseUrl, opts);
}

// ---------- lifecycle ----------

before(async () => {
  server = await startServer("vote");
  baseUrl = server.base;
  browser = await launchBrowser();

  // Find the demo question through the search page, like a person would.
  const context = await newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    const resp = await page.goto(`/search?q=${encodeURIComponent("Tabs")}`);
    assert.equal(resp.status(), 200, "GET /search?q=Tabs");
    const link = page.locator(".question-list a", { hasText: QUESTION_TITLE }).first();
    const href = await link.getAttribute("href");
    const m = /^\/q\/(\d+)\/[a-z0-9-]+$/.exec(href || "");
    assert.ok(m, `question link does not look like /q/<id>/<slug>: ${href}`);
    const id = m[1];

    await page.goto(href);
    const choices = await page
      .locator('form.vote-form input[name="choice"]')
      .evaluateAll((els) => els.map((e) => e.value));
    assert.ok(choices.length >= 2, "the question needs at least two choices");
    question = { id, path: href, url: `${baseUrl}${href}`, choices };
  } finally {
    await context.close();
  }
}, { timeout: 90_000 });

after(() => tearDown(browser, server));

// ---------- tests ----------

test("without JavaScript: vote, change, withdraw via plain form posts", { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    const [A, B] = question.choices;
    await page.goto(question.path);

    // A fresh browser has no ballot: "Vote", nothing checked, no withdraw form.
    assert.equal((await page.locator("form.vote-form button[type=submit]").textContent()).trim(), "Vote");
    assert.deepEqual(await checkedChoices(page), []);
    assert.equal(await page.locator("form.withdraw-form").count(), 0);
    const original = await shownCounts(page);

    // Vote for A.
    await choiceInput(page, A).check();
    await submitPlain(page, "form.vote-form button[type=submit]", `/q/${question.id}/vote`, "Thanks, your vote was counted.");
    assert.equal(await shownVotes(page, A), original[A] + 1, "A went up by exactly one");
    assert.equal(await shownVotes(page, B), original[B], "B unchanged");
    assert.deepEqual(await checkedChoices(page), [A]);
    assert.equal((await page.locator("form.vote-form button[type=submit]").textContent()).trim(), "Change vote");
    assert.equal(await page.locator("form.withdraw-form").count(), 1, "withdraw form shown once voted");

    // The notice is a one-time flash: a reload shows the ballot but no notice.
    await page.reload({ waitUntil: "load" });
    assert.equal(await page.locator(".notice").count(), 0, "flash notice shown only once");
    assert.deepEqual(await checkedChoices(page), [A], "A still checked after reload");
    assert.equal(await shownVotes(page, A), original[A] + 1);

    // Change to B.
    await choiceInput(page, B).check();
    await submitPlain(page, "form.vote-form button[type=submit]", `/q/${question.id}/vote`, "Your vote was changed.");
    assert.equal(await shownVotes(page, A), original[A], "A back to its original count");
    assert.equal(await shownVotes(page, B), original[B] + 1, "B went up by exactly one");
    assert.deepEqual(await checkedChoices(page), [B]);

    // Withdraw.
    await submitPlain(page, "form.withdraw-form button[type=submit]", `/q/${question.id}/withdraw`, "Your vote was withdrawn.");
    assert.deepEqual(await shownCounts(page), original, "all counts back to the originals");
    assert.deepEqual(await checkedChoices(page), [], "no choice checked after withdrawing");
    assert.equal(await page.locator("form.withdraw-form").count(), 0, "no withdraw form without a ballot");
    assert.equal((await page.locator("form.vote-form button[type=submit]").textContent()).trim(), "Vote");
  } finally {
    await context.close();
  }
});

test("with JavaScript: vote and withdraw update #results in place", { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const [A] = question.choices;
    // Every count of A the page shows, from the first paint on (again after a reload).
    await page.addInitScript((id) => {
      window.__shown = [];
      const record = () => {
        const el = document.querySelector(`#results [data-choice="${id}"] .result-votes`);
        const m = el && /(\d+)\s+votes?/.exec(el.textContent || "");
        if (m) {
          window.__shown.push(Number(m[1]));
        }
      };
      document.addEventListener("DOMContentLoaded", () => {
        record();
        const results = document.getElementById("results");
        if (results) {
          new MutationObserver(record).observe(results, { subtree: true, childList: true, characterData: true });
        }
      });
    }, A);

    await page.goto(question.path, { waitUntil: "load" });
    await page.evaluate(() => {
      window.__marker = 1;
    });
    const original = await shownCounts(page);

    // Vote for A: a PUT to the API, no navigation.
    const put = page.waitForResponse(
      (r) => r.request().method() === "PUT" && new URL(r.url()).pathname === `/api/v1/questions/${question.id}/vote`,
    );
    await choiceInput(page, A).check();
    await page.locator("form.vote-form button[type=submit]").click();
    assert.equal((await put).status(), 200, "PUT /api/v1/questions/<id>/vote");
    await waitForShownVotes(page, A, original[A] + 1);
    // Live ticks (every 500 ms, from counts cached before the vote) never take the vote off.
    await page.waitForTimeout(1200);
    const afterVote = await page.evaluate(() => window.__shown);
    assert.deepEqual(
      afterVote.slice(afterVote.indexOf(original[A] + 1)).filter((n) => n !== original[A] + 1),
      [],
      `the vote stays on the bars: ${afterVote}`,
    );

    assert.equal(await page.evaluate(() => window.__marker), 1, "page was not reloaded");
    assert.equal(page.url(), question.url, "URL unchanged");
    assert.equal((await page.locator("form.vote-form button[type=submit]").textContent()).trim(), "Change vote");
    assert.equal(await page.locator("form.withdraw-form").count(), 1, "a withdraw form appeared");
    assert.deepEqual(await checkedChoices(page), [A]);
    for (const id of question.choices.filter((c) => c !== A)) {
      assert.equal(await shownVotes(page, id), original[id], `choice ${id} unchanged`);
    }

    // The server kept the ballot: a reload shows A checked and the +1.
    await page.reload({ waitUntil: "load" });
    assert.equal(await page.evaluate(() => window.__marker), undefined, "reload did reset the page");
    assert.deepEqual(await checkedChoices(page), [A], "A still checked after reload");
    assert.equal(await shownVotes(page, A), original[A] + 1);
    await page.waitForTimeout(1200);
    const afterReload = await page.evaluate(() => window.__shown);
    assert.deepEqual(
      afterReload.filter((n) => n !== original[A] + 1),
      [],
      `after a reload too: ${afterReload}`,
    );
    assert.equal((await page.locator("form.vote-form button[type=submit]").textContent()).trim(), "Change vote");

    // Withdraw through the (server-rendered, JS-bound) withdraw button.
    await page.evaluate(() => {
      window.__marker = 1;
    });
    const del = page.waitForResponse(
      (r) => r.request().method() === "DELETE" && new URL(r.url()).pathname === `/api/v1/questions/${question.id}/vote`,
    );
    await page.locator("form.withdraw-form button[type=submit]").click();
    assert.ok([200, 204].includes((await del).status()), "DELETE /api/v1/questions/<id>/vote");
    await waitForShownVotes(page, A, original[A]);

    assert.equal(await page.evaluate(() => window.__marker), 1, "withdraw did not reload the page");
    assert.equal(page.url(), question.url, "URL unchanged");
    assert.deepEqual(await shownCounts(page), original, "all counts back to the originals");
    assert.deepEqual(await checkedChoices(page), [], "nothing checked after withdrawing");
    assert.equal(await page.locator("form.withdraw-form").count(), 0, "withdraw form removed");
    assert.equal((await page.locator("form.vote-form button[type=submit]").textContent()).trim(), "Vote");
    assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  } finally {
    await context.close();
  }
});

test("results by trust: the toggle shows verified accounts only, and a JS vote keeps the view", { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const [A] = question.choices;
    await page.goto(question.path, { waitUntil: "load" });
    const allA = await shownVotes(page, A);
    const totalsAll = await page.locator("#results .trust-totals").textContent();
    const m = /(\d+) votes?, (\d+) from verified accounts/.exec(totalsAll);
    assert.ok(m, `the totals line says how many are verified: ${totalsAll}`);
    const [everyone, verified] = [Number(m[1]), Number(m[2])];

    // The toggle is a plain link to ?trust=verified.
    await page.locator('#results .trust-toggle a[data-trust="verified"]').click();
    await page.waitForURL((u) => u.search === "?trust=verified");
    assert.equal(
      await page.locator('#results .trust-toggle a[aria-current="true"]').getAttribute("data-trust"),
      "verified",
    );
    const verifiedA = await shownVotes(page, A);
    assert.ok(verifiedA <= allA, "verified votes are a part of all votes");
    const counted = await page.locator("#results").getAttribute("data-total");
    assert.equal(Number(counted), verified, "the bars count the verified ballots only");

    // An anonymous vote with JavaScript: the answer is read in the same view (?trust=verified),
    // so the verified bars stay, and the line counts one more vote in all.
    const put = page.waitForResponse(
      (r) => r.request().method() === "PUT" && new URL(r.url()).pathname === `/api/v1/questions/${question.id}/vote`,
    );
    await choiceInput(page, A).check();
    await page.locator("form.vote-form button[type=submit]").click();
    const resp = await put;
    assert.equal(resp.status(), 200);
    assert.equal(new URL(resp.url()).search, "?trust=verified", "the vote asks for the page's view");
    await page.waitForFunction(
      (n) => /^\s*(\d+) votes?/.exec(document.querySelector("#results .trust-totals")?.textContent || "")?.[1] === String(n),
      everyone + 1,
      { timeout: STEP_TIMEOUT },
    );
    assert.equal(await shownVotes(page, A), verifiedA, "a cookie's vote is not a verified one");
    assert.equal(
      await page.locator('#results .trust-toggle a[aria-current="true"]').getAttribute("data-trust"),
      "verified",
      "the view is kept after the vote",
    );

    // Withdraw again (the other tests start from the demo's counts).
    const del = page.waitForResponse((r) => r.request().method() === "DELETE");
    await page.locator("form.withdraw-form button[type=submit]").click();
    assert.ok([200, 204].includes((await del).status()));
    await page.waitForFunction(
      (n) => /^\s*(\d+) votes?/.exec(document.querySelector("#results .trust-totals")?.textContent || "")?.[1] === String(n),
      everyone,
      { timeout: STEP_TIMEOUT },
    );
    assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  } finally {
    await context.close();
  }
});

test("API agrees with the page for the same browser; screenshot after a JS vote", { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    const B = question.choices[1];

    await page.goto(question.path, { waitUntil: "load" });
    const before = await apiQuestion(context);
    assert.equal(before.ballot, null, "a fresh browser has no ballot");
    const original = await shownCounts(page);
    for (const id of question.choices) {
      assert.equal(apiVotes(before, id), original[id], `API and page agree on choice ${id} before voting`);
    }

    await choiceInput(page, B).check();
    await page.locator("form.vote-form button[type=submit]").click();
    await waitForShownVotes(page, B, original[B] + 1);

    const after = await apiQuestion(context);
    assert.ok(after.ballot, "API shows a ballot for this browser's cookie");
    assert.deepEqual(after.ballot.choices.map(String), [String(B)], "API ballot matches the choice made in the page");
    assert.equal(after.total_votes, before.total_votes + 1, "total_votes went up by one");
    assert.equal(after.results.total, before.results.total + 1, "results.total went up by one");
    const shown = await shownCounts(page);
    for (const id of question.choices) {
      assert.equal(apiVotes(after, id), shown[id], `API and page agree on choice ${id} after voting`);
    }

    // Another browser (separate cookie jar) has no ballot.
    const other = await newContext();
    try {
      assert.equal((await apiQuestion(other)).ballot, null, "ballot is per browser");
    } finally {
      await other.close();
    }

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, "question.png"), fullPage: true });

    // Leave the shared server as we found it. A cookie-authenticated API call without a JSON
    // body is refused without the page's CSRF token in X-CSRF-Token.
    const url = `${baseUrl}/api/v1/questions/${question.id}/vote`;
    const bare = await context.request.delete(url, { headers: { Accept: "application/json" } });
    assert.equal(bare.status(), 403, "DELETE without X-CSRF-Token is refused");
    const token = await page.locator('input[name="csrf_token"]').first().inputValue();
    const del = await context.request.delete(url, {
      headers: { Accept: "application/json", "X-CSRF-Token": token },
    });
    assert.ok([200, 204].includes(del.status()), `DELETE via API answered ${del.status()}`);
    assert.equal((await apiQuestion(context)).ballot, null, "ballot gone after DELETE");
  } finally {
    await context.close();
  }
});

test("with JavaScript: a vote the server could not save is kept, retried and confirmed", { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const voteUrl = `${baseUrl}/api/v1/questions/${question.id}/vote`;
    // The first two PUTs get what the app answers while its database is down.
    let refused = 0;
    const puts = [];
    await page.route(voteUrl, async (route) => {
      if (route.request().method() !== "PUT") {
        return route.continue();
      }
      puts.push(route.request().postData());
      if (refused < 2) {
        refused += 1;
        return route.fulfill({
          status: 503,
          headers: { "Content-Type": "application/json", "Retry-After": "1" },
          body: JSON.stringify({ error: { code: "unavailable", message: "We cannot reach our database just now." } }),
        });
      }
      return route.continue();
    });
    await page.goto(question.path, { waitUntil: "load" });
    const original = await shownCounts(page);
    const C = question.choices[question.choices.length - 1];
    await choiceInput(page, C).check();
    await page.locator("form.vote-form button[type=submit]").click();

    // While it is refused: the choice stays, the page says it is saving, no error and no reload.
    await page.locator("form.vote-form .form-msg", { hasText: "Saving your vote…" }).waitFor();
    assert.deepEqual(await checkedChoices(page), [C], "the choice is kept while retrying");
    assert.equal(await page.locator("form.vote-form button[type=submit]").isDisabled(), true, "no second submit meanwhile");

    // It lands: confirmed, counted once.
    await page.locator("form.vote-form .form-msg", { hasText: "Vote saved" }).waitFor({ timeout: 15_000 });
    assert.equal(refused, 2, "two refusals");
    assert.equal(puts.length, 3, "sent three times in all");
    assert.ok(puts.every((b) => b === puts[0]), "the same vote each time");
    await waitForShownVotes(page, C, original[C] + 1);
    const data = await apiQuestion(context);
    assert.equal(apiVotes(data, C), original[C] + 1, "counted once");
    assert.deepEqual(pageErrors, [], "no script errors");

    // Leave the shared server as we found it.
    await page.unroute(voteUrl);
    const del = await context.request.delete(voteUrl, {
      headers: { "Content-Type": "application/json", Accept: "application/json" },
    });
    assert.equal(del.status(), 204);
  } finally {
    await context.close();
  }
});

test("live results: a vote from another browser shows up without a reload", { timeout: TEST_TIMEOUT }, async () => {
  const watcher = await newContext();
  const voter = await newContext();
  try {
    const page = await watcher.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const liveOpened = page.waitForResponse(
      (r) => new URL(r.url()).pathname === `${question.path.split("/").slice(0, 3).join("/")}/live`,
      { timeout: STEP_TIMEOUT },
    );
    await page.goto(question.path, { waitUntil: "load" });
    await page.evaluate(() => {
      window.__marker = 1;
    });
    const live = await liveOpened;
    assert.equal(live.status(), 200, "the page opens /q/<id>/live");
    const B = question.choices[1];

    // Another browser votes through the API (JSON, so no CSRF header is needed).
    const put = await voter.request.put(`${baseUrl}/api/v1/questions/${question.id}/vote`, {
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      data: JSON.stringify({ choices: [Number(B)] }),
    });
    assert.equal(put.status(), 200, "PUT vote from the other browser");
    // The vote's answer holds the exact results after it; the watching page must reach them.
    const after = apiVotes(await put.json(), B);
    await waitForShownVotes(page, B, after);
    assert.equal(await page.evaluate(() => window.__marker), 1, "no reload happened");
    assert.deepEqual(pageErrors, [], "no script errors");

    // Leave the shared server as we found it.
    const del = await voter.request.delete(`${baseUrl}/api/v1/questions/${question.id}/vote`, {
      headers: { "Content-Type": "application/json", Accept: "application/json" },
    });
    assert.equal(del.status(), 204);
  } finally {
    await watcher.close();
    await voter.close();
  }
});

test("asking with images: the question page shows them responsively, and they load", { timeout: TEST_TIMEOUT }, async () => {
  const photo = join(server.tmp, "view.jpg");
  const thumb = join(server.tmp, "left.png");
  execFileSync(BIN, ["media", "sample", "photo", "--width", "2400", "--height", "1600", photo], { env: { ...process.env, BEEBETA_LOG_FILTER: "error", BEEBETA_SECRET_FILE: join(server.tmp, "secret") } });
  execFileSync(BIN, ["media", "sample", "graphic", "--width", "500", "--height", "500", thumb], { env: { ...process.env, BEEBETA_LOG_FILTER: "error", BEEBETA_SECRET_FILE: join(server.tmp, "secret") } });
  const context = await newContext({ viewport: { width: 800, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto("/signup");
    await page.fill('input[name="username"]', "painter");
    await page.fill('input[name="email"]', "painter@example.com");
    await page.fill('input[name="password"]', "correct horse battery staple");
    const signedUp = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/signup");
    await page.getByRole("button", { name: "Create account" }).click();
    assert.equal((await signedUp).status(), 303, "sign-up form accepted");
    await page.waitForLoadState("load");
    assert.match(await page.locator("main").textContent(), /Check your inbox/);
    // The link went to the address (the server log here, with no SMTP server); follow it.
    let link = null;
    for (let i = 0; i < 50 && !link; i++) {
      const m = /\/signup\/confirm\?token=[A-Za-z0-9_-]+/.exec(server.log());
      link = m && m[0];
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(link, "a sign-up link in the server log");
    await page.goto(link);
    const made = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/signup/confirm");
    await page.getByRole("button", { name: "Create my account" }).click();
    assert.equal((await made).status(), 303, "signed up");
    await page.waitForLoadState("load");
    await page.goto("/ask");
    await page.fill('input[name="title"]', "Which side of the valley is prettier?");
    const choices = page.locator('input[name="choice"]');
    await choices.nth(0).fill("Left");
    await choices.nth(1).fill("Right");
    await page.setInputFiles('input[name="image"]', photo);
    await page.locator('input[name="choice_image"]').nth(0).setInputFiles(thumb);
    const posted = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/ask");
    await page.locator('.form-actions button[type="submit"]').click();
    const resp = await posted;
    assert.equal(resp.status(), 303, "the ask form redirects to the new question");
    await page.waitForLoadState("load");
    assert.match(new URL(page.url()).pathname, /^\/q\/\d+\/which-side-of-the-valley-is-prettier$/);

    const hero = page.locator(".question-image img");
    await hero.waitFor();
    assert.equal(await hero.getAttribute("alt"), "Which side of the valley is prettier?");
    assert.equal(await hero.getAttribute("loading"), "lazy");
    assert.equal(await hero.getAttribute("width"), "1200");
    assert.equal(await hero.getAttribute("height"), "800");
    assert.match(await hero.getAttribute("srcset"), /\/media\/img\/[0-9a-f]{32}\.jpg 1200w, .* 600w, .* 160w$/);
    // The browser picks a rendition and loads it (no layout shift: the box is sized before).
    await page.waitForFunction(() => {
      const img = document.querySelector(".question-image img");
      return img && img.complete && img.naturalWidth > 0;
    });
    const chosen = await hero.evaluate((img) => img.currentSrc);
    assert.match(chosen, /\/media\/img\/[0-9a-f]{32}\.jpg$/);
    const media = await context.request.get(chosen);
    assert.equal(media.status(), 200);
    assert.equal(media.headers()["cache-control"], "public, max-age=31536000, immutable");
    const choiceImg = page.locator("img.choice-image");
    assert.equal(await choiceImg.count(), 1);
    assert.equal(await choiceImg.getAttribute("alt"), "Left");
    assert.match(await choiceImg.getAttribute("src"), /\.png$/, "transparency is kept as PNG");
    const og = await page.locator('meta[property="og:image"]').getAttribute("content");
    assert.ok(og.startsWith(baseUrl + "/media/img/"), og);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, "question-with-images.png"), fullPage: true });
  } finally {
    await context.close();
  }
});

test("search box: suggestions while typing with JavaScript, a plain search form without", { timeout: TEST_TIMEOUT }, async () => {
  const js = await newContext({});
  try {
    const page = await js.newPage();
    await page.goto("/");
    const box = page.locator("#site-search-q");
    await box.click();
    await box.pressSequentially("indent", { delay: 30 });
    const option = page.locator("#site-search-q-suggestions [role=option]").first();
    await option.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
    assert.equal((await option.textContent()).trim(), QUESTION_TITLE);
    assert.equal(await box.getAttribute("aria-expanded"), "true");
    // Arrow down selects it; Enter opens the question.
    await box.press("ArrowDown");
    assert.equal(await option.getAttribute("aria-selected"), "true");
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith(`/q/${question.id}`), { timeout: STEP_TIMEOUT }),
      box.press("Enter"),
    ]);
    assert.equal((await page.locator("h1").first().textContent()).trim(), QUESTION_TITLE);
    // Escape closes the list.
    await box.click();
    await box.fill("");
    await box.pressSequentially("indentation", { delay: 20 });
    await option.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
    await box.press("Escape");
    assert.equal(await page.locator("#site-search-q-suggestions").isHidden(), true);
  } finally {
    await js.close();
  }

  const plain = await newContext({ javaScriptEnabled: false });
  try {
    const page = await plain.newPage();
    await page.goto("/");
    await page.locator("#site-search-q").fill("indentation");
    await Promise.all([
      page.waitForURL((u) => u.pathname === "/search", { timeout: STEP_TIMEOUT }),
      page.locator("#site-search-q").press("Enter"),
    ]);
    assert.match(page.url(), /q=indentation/);
    const titles = await page.locator(".question-list .question-title a").allTextContents();
    assert.ok(titles.map((t) => t.trim()).includes(QUESTION_TITLE), JSON.stringify(titles));
    // The filter form searches again with a status.
    await page.locator("#search-status").selectOption("open");
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get("status") === "open", { timeout: STEP_TIMEOUT }),
      page.locator(".search-filters button[type=submit]").click(),
    ]);
    assert.ok((await page.locator(".question-list .question-title a").allTextContents()).length >= 1);
  } finally {
    await plain.close();
  }
});
