// Layout, accessibility and local-time checks for Beebeta in a real headless Chromium.
//
// Starts its own beebeta server (demo data, throwaway SQLite file, free port on 127.0.0.1), makes a
// member (the sign-up form and its e-mailed link, read from the server log) and an admin (the
// `create-admin` command, then the log-in form and a two-factor code computed from the printed
// otpauth URI), and visits the main pages as visitor, member and admin at 1280×800 and 390×844.
// On every page: the header is one row (≤ 72 px wide, ≤ 64 px on a phone with the menu folded), the
// page does not scroll sideways, and axe finds nothing serious or critical. A screenshot of each is
// kept in out/layout/ (CI keeps out/ as an artefact). Run with `./run.sh` or
// `node --test layout.test.mjs` from this folder.
//
// Env: BEEBETA_BIN (default ../../target/debug/beebeta), CHROMIUM_PATH (default /usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, HERE, REPO, axeProblems, launchBrowser, newContext as contextOn, startServer, tearDown } from "./support.mjs";

const SHOTS = join(HERE, "out", "layout");
const PASSWORD = "correct horse battery staple";

const DESKTOP = { name: "desktop", width: 1280, height: 800, maxHeader: 72 };
const PHONE = { name: "phone", width: 390, height: 844, maxHeader: 64 };
const VIEWPORTS = [DESKTOP, PHONE];

let server = null;
let baseUrl = null;
let browser = null;
let questionPath = null;
let memberState = null; // storage state (cookies) of a logged-in member
let adminState = null; // ... and of an admin past two-factor

// ---------- helpers ----------

function newContext(opts = {}) {
  return contextOn(browser, baseUrl, opts);
}

/** RFC 6238 code (HMAC-SHA-1, 6 digits, 30 s) for the secret of an otpauth:// URI. */
function totp(uri, at = Date.now()) {
  const secret = new URL(uri).searchParams.get("secret");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

async function postAndLand(page, buttonName, path) {
  const posted = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path);
  await page.getByRole("button", { name: buttonName, exact: true }).click();
  const resp = await posted;
  await page.waitForLoadState("load");
  return resp;
}

async function signUpMember(username) {
  const context = await newContext();
  try {
    const page = await context.newPage();
    await page.goto("/signup");
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="email"]', `${username}@example.com`);
    await page.fill('input[name="password"]', PASSWORD);
    assert.equal((await postAndLand(page, "Create account", "/signup")).status(), 303, "sign-up form accepted");
    let link = null;
    for (let i = 0; i < 50 && !link; i++) {
      // The only sign-up on this server; with no SMTP server the link goes to the log.
      const m = /\/signup\/confirm\?token=[A-Za-z0-9_-]+/.exec(server.log());
      link = m && m[0];
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(link, "a sign-up link in the server log");
    await page.goto(link);
    assert.equal((await postAndLand(page, "Create my account", "/signup/confirm")).status(), 303, "signed up");
    return await context.storageState();
  } finally {
    await context.close();
  }
}

async function makeAdmin(username) {
  const out = execFileSync(BIN, ["create-admin", "--username", username, "--email", `${username}@example.com`], {
    cwd: REPO,
    env: { ...server.env, BEEBETA_LOG_FILTER: "error" },
    input: `${PASSWORD}\n`,
  }).toString();
  const uri = /otpauth:\/\/\S+/.exec(out);
  assert.ok(uri, `create-admin printed an otpauth URI: ${out}`);
  const context = await newContext();
  try {
    const page = await context.newPage();
    await page.goto("/login?next=/admin");
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', PASSWORD);
    await postAndLand(page, "Log in", "/login");
    assert.equal(new URL(page.url()).pathname, "/login/2fa", "asked for the second factor");
    await page.fill('input[name="code"]', totp(uri[0]));
    await postAndLand(page, "Log in", "/login/2fa");
    assert.equal(new URL(page.url()).pathname, "/admin", "in the admin area");
    return await context.storageState();
  } finally {
    await context.close();
  }
}

async function layoutFacts(page) {
  return page.evaluate(() => {
    const header = document.querySelector(".site-header").getBoundingClientRect();
    return {
      header: Math.round(header.height),
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      // What sticks out on the right, to name it when the check fails.
      wide: Array.from(document.querySelectorAll("body *"))
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest(".table-wrap"))
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
    };
  });
}

// Pages per role: [name, path, status (200 unless given)]. The question page is filled in once the
// server is up.
function pages(role) {
  const common = [
    ["home", "/"],
    ["new", "/new"],
    ["top", "/top"],
    ["question", questionPath],
    ["tags", "/tags"],
    ["tag", "/t/programming"],
    ["search", "/search?q=indentation"],
    ["profile", "/u/member"],
    ["not-found", "/no/such/page", 404],
  ];
  if (role === "visitor") {
    return [...common, ["login", "/login"], ["signup", "/signup"]];
  }
  if (role === "member") {
    return [...common, ["ask", "/ask"], ["settings", "/settings"], ["welcome", "/welcome"]];
  }
  return [
    ["home", "/"],
    ["question", questionPath],
    ["not-found", "/no/such/page", 404],
    ["admin", "/admin"],
    ["admin-users", "/admin/users"],
    ["admin-reports", "/admin/reports?window=month"],
    ["admin-questions", "/admin/questions?q=Tabs"],
    ["admin-question-numbers", questionPath.replace(/^\/q\/(\d+).*$/, "/admin/questions/$1")],
    ["admin-flags", "/admin/flags"],
    ["admin-audit", "/admin/audit"],
  ];
}

function stateFor(role) {
  return role === "member" ? memberState : role === "admin" ? adminState : undefined;
}

// ---------- lifecycle ----------

before(async () => {
  server = await startServer("layout");
  baseUrl = server.base;
  browser = await launchBrowser();

  const context = await newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto("/search?q=Tabs");
    questionPath = await page.locator(".question-list .question-title a").first().getAttribute("href");
    assert.match(questionPath, /^\/q\/\d+\/[a-z0-9-]+$/);
  } finally {
    await context.close();
  }
  memberState = await signUpMember("member");
  adminState = await makeAdmin("boss");
  mkdirSync(SHOTS, { recursive: true });
}, { timeout: 120_000 });

after(() => tearDown(browser, server));

// ---------- tests ----------

const measured = []; // header heights, printed at the end for the record

for (const role of ["visitor", "member", "admin"]) {
  for (const vp of VIEWPORTS) {
    test(`${role} at ${vp.width}px: one-row header, no sideways scroll, no serious axe findings`, { timeout: 120_000 }, async () => {
      const context = await newContext({
        viewport: { width: vp.width, height: vp.height },
        storageState: stateFor(role),
        deviceScaleFactor: 1,
        isMobile: vp === PHONE,
        hasTouch: vp === PHONE,
      });
      const failures = [];
      try {
        const page = await context.newPage();
        const errors = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        for (const [name, path, status = 200] of pages(role)) {
          const resp = await page.goto(path, { waitUntil: "load" });
          assert.equal(resp.status(), status, `${role} GET ${path}`);
          if (name === "question") {
            // The flag form is checked open (axe skips what a closed <details> hides).
            await page.locator(".flag-box summary").click();
          }
          const facts = await layoutFacts(page);
          measured.push(`${role} ${vp.width}px ${name}: header ${facts.header}px`);
          if (facts.header > vp.maxHeader) {
            failures.push(`${name}: header is ${facts.header}px high (at most ${vp.maxHeader})`);
          }
          if (facts.scrollWidth > facts.innerWidth) {
            failures.push(`${name}: the page is ${facts.scrollWidth}px wide in a ${facts.innerWidth}px window (${facts.wide.join(", ")})`);
          }
          await page.screenshot({ path: join(SHOTS, `${role}-${name}-${vp.width}.png`), fullPage: true });
          for (const p of await axeProblems(page)) {
            failures.push(`${name}: axe ${p}`);
          }
        }
        assert.deepEqual(errors, [], "no script errors");
      } finally {
        await context.close();
      }
      assert.deepEqual(failures, [], failures.join("\n"));
    });
  }
}

test("phone menu: folded by default, opens and closes, with and without JavaScript", { timeout: 60_000 }, async () => {
  for (const javaScriptEnabled of [true, false]) {
    const context = await newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      await page.goto("/");
      const menu = page.locator("#site-menu");
      const toggle = page.locator(".menu-toggle-label");
      assert.equal(await menu.isVisible(), false, "menu folded on a phone");
      assert.equal(await toggle.isVisible(), true, "a Menu toggle");
      const folded = (await layoutFacts(page)).header;
      await toggle.click();
      await menu.waitFor({ state: "visible" });
      for (const name of ["Hot", "Tags", "Ask", "Log in", "Sign up"]) {
        assert.ok(await menu.getByRole("link", { name, exact: true }).isVisible(), `${name} in the open menu`);
      }
      assert.ok(await page.locator("#site-search-q").isVisible(), "the search box in the open menu");
      const open = (await layoutFacts(page)).header;
      assert.ok(open > folded, `the header grows when open (${folded} -> ${open})`);
      assert.ok((await layoutFacts(page)).scrollWidth <= 390, "no sideways scroll with the menu open");
      if (javaScriptEnabled) {
        await page.screenshot({ path: join(SHOTS, "visitor-menu-open-390.png") });
        await page.keyboard.press("Escape");
        await menu.waitFor({ state: "hidden" });
        await toggle.click();
        await menu.waitFor({ state: "visible" });
      }
      await toggle.click();
      await menu.waitFor({ state: "hidden" });
      // On a wide screen there is no toggle and everything shows.
      await page.setViewportSize({ width: 1280, height: 800 });
      assert.equal(await toggle.isVisible(), false, "no toggle on a wide screen");
      assert.equal(await menu.isVisible(), true, "links shown on a wide screen");
    } finally {
      await context.close();
    }
  }
});

test("header: Ask for everyone; the search box only echoes a site search", { timeout: 60_000 }, async () => {
  const visitor = await newContext({ javaScriptEnabled: false });
  try {
    const page = await visitor.newPage();
    await page.goto("/");
    const ask = page.locator(".account-nav a", { hasText: "Ask" });
    assert.equal(await ask.getAttribute("href"), "/ask");
    await ask.click();
    await page.waitForLoadState("load");
    const url = new URL(page.url());
    assert.equal(url.pathname, "/login", "a visitor is sent to log in");
    assert.equal(url.searchParams.get("next"), "/ask", "and comes back to the form");
    await page.goto("/search?q=indentation");
    assert.equal(await page.locator("#site-search-q").inputValue(), "indentation", "the search page fills the header box");
  } finally {
    await visitor.close();
  }
  const admin = await newContext({ storageState: adminState, javaScriptEnabled: false });
  try {
    const page = await admin.newPage();
    await page.goto("/admin/questions?q=Tabs");
    assert.equal(await page.locator("#modq-q").inputValue(), "Tabs", "the admin filter keeps its text");
    assert.equal(await page.locator("#site-search-q").inputValue(), "", "the site search box stays empty");
  } finally {
    await admin.close();
  }
});

test("share box: the whole link shows and Copy link stays on one line", { timeout: 60_000 }, async () => {
  for (const vp of VIEWPORTS) {
    const context = await newContext({ viewport: { width: vp.width, height: vp.height } });
    try {
      const page = await context.newPage();
      await page.goto(questionPath);
      const box = page.locator("#share-url");
      assert.equal(await box.inputValue(), `${baseUrl}${questionPath}`, "the share box holds the canonical URL");
      const fit = await box.evaluate((el) => ({
        sw: el.scrollWidth,
        cw: el.clientWidth,
        sh: el.scrollHeight,
        ch: el.clientHeight,
      }));
      assert.ok(fit.sw <= fit.cw, `${vp.width}px: nothing hidden sideways (${fit.sw} > ${fit.cw})`);
      assert.ok(fit.sh <= fit.ch + 1, `${vp.width}px: nothing hidden below (${fit.sh} > ${fit.ch})`);
      const button = page.locator('.share button[data-copy="share-url"]');
      await button.waitFor({ state: "visible" });
      const lines = await button.evaluate((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
        return tops.size;
      });
      assert.equal(lines, 1, `${vp.width}px: "Copy link" on one line`);
      const right = await page.locator(".share").evaluate((el) => el.getBoundingClientRect().right);
      assert.ok(right <= vp.width, `${vp.width}px: the share box fits the screen`);
      await page.locator(".share").screenshot({ path: join(SHOTS, `share-${vp.width}.png`) });
    } finally {
      await context.close();
    }
  }
});

test("times: in the visitor's zone with JavaScript, UTC without", { timeout: 60_000 }, async () => {
  const zone = "Asia/Kolkata";
  const js = await newContext({ storageState: adminState, timezoneId: zone });
  try {
    const page = await js.newPage();
    await page.goto("/admin/questions");
    const first = page.locator("td time[datetime]").first();
    await page.waitForFunction(() => document.querySelector("td time[datetime]").hasAttribute("data-local"));
    const [shown, title, expected] = await first.evaluate((el, tz) => [
      el.textContent.trim(),
      el.title,
      new Intl.DateTimeFormat(undefined, {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        timeZoneName: "short",
        timeZone: tz,
      }).format(new Date(el.getAttribute("datetime"))),
    ], zone);
    assert.equal(shown, expected, "an absolute time is rewritten in the visitor's zone");
    assert.match(title, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, "the UTC text is kept as its tooltip");

    await page.goto(questionPath);
    const asked = page.locator(".question-head time").first();
    await page.waitForFunction(() => document.querySelector(".question-head time").hasAttribute("data-local"));
    assert.match((await asked.textContent()).trim(), /ago$|^just now$/, "a relative time stays relative");
    assert.match(await asked.getAttribute("title"), /GMT\+5:30|IST/, "with the local time as its tooltip");
  } finally {
    await js.close();
  }
  const plain = await newContext({ storageState: adminState, javaScriptEnabled: false, timezoneId: zone });
  try {
    const page = await plain.newPage();
    await page.goto("/admin/questions");
    assert.match((await page.locator("td time[datetime]").first().textContent()).trim(), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await page.goto(questionPath);
    assert.match(await page.locator(".question-head time").first().getAttribute("title"), /UTC$/);
  } finally {
    await plain.close();
  }
});

test("ask form: rules shown first, an over-size image refused before upload, previews", { timeout: 60_000 }, async () => {
  const context = await newContext({ storageState: memberState, viewport: { width: 390, height: 844 }, timezoneId: "Europe/Paris" });
  try {
    const page = await context.newPage();
    const uploads = [];
    page.on("request", (r) => {
      if (r.method() === "POST") uploads.push(r.url());
    });
    await page.goto("/ask");
    assert.match(await page.locator("#ask-title-hint").textContent(), /10 to 200 characters/);
    assert.equal(await page.locator("#ask-title-input").getAttribute("minlength"), "10");
    const limitMb = Number(await page.locator("form.ask-form").getAttribute("data-max-upload-mb"));
    assert.ok(limitMb >= 1, "the form knows the upload limit");
    assert.match(await page.locator("#ask-image-hint").textContent(), new RegExp(`up to ${limitMb} MB`));
    assert.match(await page.locator("#ask-closes-at-hint").textContent(), /your time zone \(Europe\/Paris\)/);

    // Over the limit: refused at once, nothing sent.
    const big = join(server.tmp, "big.jpg");
    const bytes = Buffer.alloc(limitMb * 1024 * 1024 + 1024);
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    writeFileSync(big, bytes);
    await page.setInputFiles("#ask-image", big);
    const error = page.locator(".field .file-error");
    await error.waitFor({ state: "visible" });
    assert.match(await error.textContent(), new RegExp(`images can be up to ${limitMb} MB`));
    assert.equal(await page.locator("#ask-image").evaluate((el) => el.files.length), 0, "the file is not kept");
    assert.deepEqual(uploads, [], "nothing was uploaded");

    // A fitting image: a preview, no error.
    const small = join(server.tmp, "small.png");
    execFileSync(BIN, ["media", "sample", "graphic", "--width", "200", "--height", "150", small], {
      env: { ...server.env, BEEBETA_LOG_FILTER: "error" },
    });
    await page.locator('input[name="choice_image"]').first().setInputFiles(small);
    const preview = page.locator(".choice-image-row .image-preview.is-picked img").first();
    await page.waitForFunction(() => {
      const img = document.querySelector(".choice-image-row .image-preview.is-picked img");
      return img && img.complete && img.naturalWidth > 0;
    });
    assert.match(await preview.getAttribute("src"), /^data:image\/png;base64,/);
    await page.screenshot({ path: join(SHOTS, "member-ask-preview-390.png"), fullPage: true });

    // What each typed tag will become shows as it is typed; two tags that would become one say so.
    const tagPreview = page.locator("#ask-tags-preview");
    assert.equal(await tagPreview.isVisible(), false, "nothing to show before typing");
    await page.locator("#ask-tags").pressSequentially("C++, Hello World, C--, C");
    await tagPreview.waitFor({ state: "visible" });
    const said = await tagPreview.textContent();
    assert.match(said, /Saved as: c\+\+, hello-world, c/);
    assert.match(said, /\u201cC--\u201d and \u201cC\u201d would both become the tag \u201cc\u201d/);
    await page.locator("#ask-tags").fill("rust, Rust");
    await page.locator("#ask-tags").dispatchEvent("input");
    assert.equal((await tagPreview.textContent()).trim(), "Saved as: rust", "the same tag typed twice is one");
    for (const p of await axeProblems(page)) {
      assert.fail(`ask form with the tag preview: axe ${p}`);
    }

    // The closing time is typed locally and sent in UTC (Paris is UTC+1 in December).
    await page.fill("#ask-closes-at", "2030-12-10T19:00");
    assert.equal(await page.locator('input[type="hidden"][name="closes_at"]').inputValue(), "2030-12-10T18:00");
    const facts = await layoutFacts(page);
    assert.ok(facts.scrollWidth <= 390, `the ask form fits a phone (${facts.wide.join(", ")})`);
  } finally {
    await context.close();
  }
});

async function askAs(context, title) {
  const page = await context.newPage();
  await page.goto("/ask");
  await page.fill('input[name="title"]', title);
  const choices = page.locator('input[name="choice"]');
  await choices.nth(0).fill("Keep it");
  await choices.nth(1).fill("Delete it");
  await postAndLand(page, "Publish question", "/ask");
  assert.match(new URL(page.url()).pathname, /^\/q\/\d+\//, "the new question's page");
  return page;
}

test("destructive actions: a dialog with JavaScript, a confirmation page without", { timeout: 60_000 }, async () => {
  const context = await newContext({ storageState: memberState, viewport: { width: 390, height: 844 } });
  try {
    const page = await askAs(context, "Should this question be deleted?");
    const path = new URL(page.url()).pathname;
    const posts = [];
    page.on("request", (r) => {
      if (r.method() === "POST") posts.push(new URL(r.url()).pathname);
    });
    // Delete, then Cancel: a dialog, nothing sent, the question stays.
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    const dialog = page.locator("dialog.confirm-dialog");
    await dialog.waitFor({ state: "visible" });
    assert.equal(await dialog.locator("h2").textContent(), "Delete this question?");
    assert.deepEqual(await axeProblems(page), [], "axe, dialog open");
    await page.screenshot({ path: join(SHOTS, "confirm-dialog-phone.png") });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual(posts, [], "Cancel sends nothing");
    assert.equal(new URL(page.url()).pathname, path);
    // Escape cancels too.
    await page.getByRole("button", { name: "Close voting now", exact: true }).click();
    await dialog.waitFor({ state: "visible" });
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual(posts, [], "Escape sends nothing");
    // Close voting, confirmed in the dialog: done, results final.
    await page.getByRole("button", { name: "Close voting now", exact: true }).click();
    await dialog.waitFor({ state: "visible" });
    const closed = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith("/close"));
    await dialog.getByRole("button", { name: "Close voting" }).click();
    assert.equal((await closed).status(), 303, "confirmed: closed");
    await page.waitForLoadState("load");
    assert.match(await page.locator(".vote-closed").textContent(), /Voting is closed/);
  } finally {
    await context.close();
  }

  // Without JavaScript the server asks on a page of its own.
  const plain = await newContext({ storageState: memberState, javaScriptEnabled: false });
  try {
    const page = await askAs(plain, "Should this one go without scripts?");
    const path = new URL(page.url()).pathname;
    await postAndLand(page, "Delete", path.replace(/^(\/q\/\d+).*$/, "$1/delete"));
    assert.equal(await page.locator("h1").textContent(), "Delete this question?");
    assert.match(await page.locator(".confirm-consequence").textContent(), /Should this one go without scripts\?/);
    await page.screenshot({ path: join(SHOTS, "confirm-page-desktop.png") });
    const back = await page.goto(path);
    assert.equal(back.status(), 200, "nothing deleted before the confirmation");
    await postAndLand(page, "Delete", path.replace(/^(\/q\/\d+).*$/, "$1/delete"));
    await postAndLand(page, "Delete the question", path.replace(/^(\/q\/\d+).*$/, "$1/delete"));
    assert.match(await page.locator(".notice").first().textContent(), /was deleted/);
    const gone = await page.goto(path);
    assert.equal(gone.status(), 404, "deleted once confirmed");
  } finally {
    await plain.close();
  }
});

test("header heights (for the record)", () => {
  console.log(measured.join("\n"));
});
