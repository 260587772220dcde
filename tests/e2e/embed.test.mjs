// Embedded polls in a real headless Chromium: a page on another origin (a second loopback port)
// frames a question with the HTML oEmbed gives, the frame grows to its content, and a visitor
// votes inside it. Framed by another *site* (localhost instead of 127.0.0.1) over plain http the
// browser refuses the frame's cookie, and the frame offers "Vote on Beebeta" instead of a form.
// axe finds nothing serious or critical on the embed.
//
// Starts its own beebeta server (demo data, throwaway SQLite file, free port on 127.0.0.1) and a
// tiny host-page server on another free port; stops both. Run with `./run.sh` or
// `node --test embed.test.mjs` from this folder.
//
// Env: BEEBETA_BIN (default ../../target/debug/beebeta), CHROMIUM_PATH (default /usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { STEP_TIMEOUT, axeProblems, freePort, launchBrowser, startServer, tearDown } from "./support.mjs";

let server = null;
let baseUrl = null;
let hostServer = null;
let hostPort = null;
let browser = null;
let question = null; // { id, path, choices: [{id, label}] }

/** The host page: an article with the snippet oEmbed gives for the question. */
async function hostPage() {
  const questionUrl = `${baseUrl}${question.path}`;
  const r = await fetch(`${baseUrl}/oembed?format=json&url=${encodeURIComponent(questionUrl)}`);
  assert.equal(r.status, 200, "oEmbed answers");
  const oembed = await r.json();
  question.snippetHeight = oembed.height;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A news site</title></head>
<body><main><h1>Today's news</h1><p>Our readers' opinion:</p>${oembed.html}<p>The end.</p></main></body></html>`;
}

before(async () => {
  server = await startServer("embed");
  baseUrl = server.base;

  // An open single-choice question of the demo whose results are always shown.
  const list = await (await fetch(`${baseUrl}/api/v1/questions?sort=new`)).json();
  for (const item of list.items) {
    const q = await (await fetch(`${baseUrl}/api/v1/questions/${item.id}`)).json();
    if (q.status === "open" && q.kind === "single" && q.results_visibility === "always" && q.protection !== "account") {
      question = { id: q.id, path: new URL(q.url, baseUrl).pathname, choices: q.choices };
      break;
    }
  }
  assert.ok(question, "the demo has an open single-choice question with visible results");

  const html = await hostPage();
  hostPort = await freePort();
  hostServer = createHttpServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise((ok) => hostServer.listen(hostPort, "127.0.0.1", ok));

  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  try {
    if (hostServer) await new Promise((ok) => hostServer.close(ok));
  } finally {
    await tearDown(browser, server);
  }
});

async function total() {
  return (await (await fetch(`${baseUrl}/api/v1/questions/${question.id}/results`)).json()).total;
}

/** Waits until the results (cached for about a second) count `expected` votes. */
async function waitForTotal(expected) {
  const deadline = Date.now() + 5000;
  let now = await total();
  while (now !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    now = await total();
  }
  assert.equal(now, expected, "the vote counted once");
}

async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

test("a page on another origin frames the poll; it grows to fit, and a vote inside it counts", { timeout: 90_000 }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    const before = await total();
    await page.goto(`http://127.0.0.1:${hostPort}/`);
    const frameEl = page.locator("iframe[data-beebeta-embed]");
    await frameEl.waitFor();
    const initial = question.snippetHeight;
    const frame = page.frameLocator("iframe[data-beebeta-embed]");
    await frame.locator("form.vote-form").waitFor();
    // embed.js sets the frame's height from the frame's message (the style, which the snippet
    // does not have).
    await page.waitForFunction(() => {
      const f = document.querySelector("iframe[data-beebeta-embed]");
      return f && f.style.height;
    });
    const box = await frameEl.boundingBox();
    const inner = await frame.locator("html").evaluate((el) => Math.ceil(el.getBoundingClientRect().height));
    assert.ok(Math.abs(box.height - inner) <= 2, `frame ${box.height}px for content ${inner}px`);
    // The snippet's own height (what a host page without embed.js shows) is close to it.
    assert.ok(
      Math.abs(initial - inner) <= inner * 0.15,
      `the snippet's height ${initial}px is within 15 % of the content's ${inner}px`,
    );

    // The form is there (the probe found the cookie), and the vote goes through the API.
    assert.equal(await frame.locator(".embed-vote-elsewhere").isHidden(), true);
    const choice = question.choices[0];
    // Every answer to the frame's vote (vote.js retries a 503 after its Retry-After), for the
    // message if the vote does not show.
    const answers = [];
    page.on("response", (r) => {
      if (r.request().method() === "PUT" && new URL(r.url()).pathname === `/api/v1/questions/${question.id}/vote`) {
        answers.push(r.status());
      }
    });
    await frame.getByLabel(choice.label, { exact: true }).check();
    await frame.getByRole("button", { name: "Vote" }).click();
    try {
      // Longer than one step: a vote answered 503 is sent again after a second or more.
      await frame.locator(".result-row.mine").first().waitFor({ timeout: 30_000 });
    } catch (e) {
      throw new Error(`the vote in the frame did not show: ${e.message}\nanswers to its PUTs: ${JSON.stringify(answers)}\nserver log:\n${server.log(3000)}`);
    }
    await waitForTotal(before + 1);

    // Inside the frame, no serious or critical axe findings.
    const handle = await frameEl.elementHandle();
    const inside = await handle.contentFrame();
    assert.deepEqual(await axeProblems(inside), [], "axe inside the frame");
  } finally {
    await context.close();
  }
});

test("without JavaScript the embed's form votes and comes back to the embed", { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 600, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT);
  try {
    const page = await context.newPage();
    const before = await total();
    await page.goto(`${baseUrl}/q/${question.id}/embed`);
    await page.getByLabel(question.choices[1].label, { exact: true }).check();
    await Promise.all([page.waitForURL(/\/embed\?done=created$/), page.getByRole("button", { name: "Vote" }).click()]);
    assert.match(await page.locator(".notice").innerText(), /your vote was counted/);
    await waitForTotal(before + 1);
  } finally {
    await context.close();
  }
});

test("framed by another site over http, the browser refuses the cookie and the frame offers Beebeta", { timeout: 60_000 }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    // localhost and 127.0.0.1 are different sites: the frame is third-party.
    await page.goto(`http://localhost:${hostPort}/`);
    const frame = page.frameLocator("iframe[data-beebeta-embed]");
    const offer = frame.locator(".embed-vote-elsewhere");
    await offer.waitFor({ state: "visible" });
    assert.equal(await frame.locator("form.vote-form").isHidden(), true, "no form that cannot work");
    const link = offer.getByRole("link", { name: "Vote on Beebeta" });
    assert.equal(await link.getAttribute("target"), "_blank");
    assert.equal(await link.getAttribute("href"), `${baseUrl}${question.path}`);
    const handle = await page.locator("iframe[data-beebeta-embed]").elementHandle();
    assert.deepEqual(await axeProblems(await handle.contentFrame()), [], "axe on the offer");
  } finally {
    await context.close();
  }
});

test("no other page may be framed", { timeout: 30_000 }, async () => {
  for (const path of ["/", question.path, "/login"]) {
    const r = await fetch(`${baseUrl}${path}`);
    assert.match(r.headers.get("content-security-policy"), /frame-ancestors 'none'/, path);
    assert.equal(r.headers.get("x-frame-options"), "DENY", path);
  }
  const r = await fetch(`${baseUrl}/q/${question.id}/embed`);
  assert.match(r.headers.get("content-security-policy"), /frame-ancestors \*/);
  assert.equal(r.headers.get("x-frame-options"), null);
});
