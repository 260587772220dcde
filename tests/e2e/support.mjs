// What every end-to-end test file shares: the binary and browser to use, a Beebeta server on its
// embedded defaults (SQLite, local media, the demo seeded) in a directory of its own, the
// headless browser, and axe. Each test file starts one server in `before` and stops it in
// `after`; a server left running when node exits is killed.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, existsSync, openSync, closeSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "..", "..");
export const BIN = process.env.BEEBETA_BIN
  ? resolve(process.cwd(), process.env.BEEBETA_BIN)
  : resolve(REPO, "target", "debug", "beebeta");
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** Any single wait inside a test. */
export const STEP_TIMEOUT = 10_000;
/** Server start (migrations and the demo seed). */
export const BOOT_TIMEOUT = 45_000;

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const running = new Set();

// Safety net: never leave a server running when node exits abruptly.
process.on("exit", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
});

/** A free TCP port on the loopback address. */
export function freePort() {
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

/** A running Beebeta server: `base` (its URL), `env` (for the CLI on the same data), `tmp`. */
export class Server {
  constructor(child, tmp, base, env) {
    this.child = child;
    this.tmp = tmp;
    this.base = base;
    this.env = env;
    this.logPath = join(tmp, "server.log");
    this.spawnError = null;
    child.on("error", (e) => {
      this.spawnError = e;
    });
    running.add(child);
    child.once("exit", () => running.delete(child));
  }

  /** The server's log so far (the last `tail` characters). */
  log(tail = Infinity) {
    try {
      const text = readFileSync(this.logPath, "utf8");
      return Number.isFinite(tail) ? text.slice(-tail) : text;
    } catch {
      return "(no server log)";
    }
  }

  gone() {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits until `/healthz` answers 200; fails with the log if the server exits or is slow. */
  async waitHealthy(deadlineMs = BOOT_TIMEOUT) {
    const url = `${this.base}/healthz`;
    const deadline = Date.now() + deadlineMs;
    let last = "not tried";
    while (Date.now() < deadline) {
      if (this.spawnError) {
        throw new Error(`could not start ${BIN}: ${this.spawnError}`);
      }
      if (this.gone()) {
        throw new Error(
          `beebeta exited early (code ${this.child.exitCode}, signal ${this.child.signalCode}):\n${this.log(4000)}`,
        );
      }
      try {
        const resp = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (resp.status === 200) {
          return;
        }
        last = `HTTP ${resp.status}`;
      } catch (e) {
        last = String(e && e.cause ? e.cause.code || e.cause : e);
      }
      await new Promise((r) => setTimeout(r, 100)); // poll interval, not a fixed wait
    }
    throw new Error(`beebeta did not become healthy at ${url} within ${deadlineMs} ms (last: ${last}):\n${this.log(4000)}`);
  }

  /** SIGTERM (Rocket shuts down gracefully), SIGKILL after 8 s; then its directory goes. */
  async stop() {
    if (!this.gone()) {
      const child = this.child;
      await new Promise((ok) => {
        const killer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            /* already gone */
          }
        }, 8000);
        child.once("exit", () => {
          clearTimeout(killer);
          ok();
        });
        try {
          child.kill("SIGTERM");
        } catch {
          clearTimeout(killer);
          ok();
        }
      });
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/**
 * Starts Beebeta on its embedded defaults in a new directory (`beebeta-e2e-<name>-*`), the demo
 * seeded and limits off, and waits until it is healthy.
 */
export async function startServer(name) {
  assert.ok(existsSync(BIN), `beebeta binary not found at ${BIN} (build it with \`cargo build\` or set BEEBETA_BIN)`);
  const tmp = mkdtempSync(join(tmpdir(), `beebeta-e2e-${name}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    BEEBETA_DATABASE_URL: `sqlite://${join(tmp, "e2e.db")}`,
    BEEBETA_SECRET_FILE: join(tmp, "secret"),
    BEEBETA_MEDIA: `file://${join(tmp, "media")}`,
    BEEBETA_LIMITS: "off",
    BEEBETA_SEED_DEMO: "true",
    BEEBETA_PUBLIC_URL: base,
    ROCKET_ADDRESS: "127.0.0.1",
    ROCKET_PORT: String(port),
  };
  const logFd = openSync(join(tmp, "server.log"), "w");
  // static/ and templates/ are found relative to the working directory.
  const child = spawn(BIN, [], { cwd: REPO, env, stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  const server = new Server(child, tmp, base, env);
  try {
    await server.waitHealthy();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** Debian's Chromium, headless, with nothing that reaches the network by itself. */
export async function launchBrowser() {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A test file's `after`: closes the browser, then stops the server (also when closing fails). */
export async function tearDown(browser, server) {
  try {
    if (browser) await browser.close();
  } finally {
    if (server) await server.stop();
  }
}

/** A browser context on `base` whose waits stop after STEP_TIMEOUT. */
export async function newContext(browser, base, opts = {}) {
  const context = await browser.newContext({ baseURL: base, ...opts });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

/** Runs axe on a page or frame; the serious and critical violations as readable lines. */
export async function axeProblems(target) {
  await target.evaluate(AXE_SOURCE);
  const violations = await target.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.targets.join(", ")}`);
}
