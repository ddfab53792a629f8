// Browser tests against the real server, in Debian's Chromium (never a
// downloaded browser). Two projects: JavaScript on (axe-core runs here, it
// injects a script) and JavaScript off (the flows must work without it).
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3100);
const bin = process.env.ORDER_STATUS_BIN ?? "target/debug/order-status";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    { name: "js-on", use: { javaScriptEnabled: true } },
    { name: "js-off", use: { javaScriptEnabled: false } },
  ],
  webServer: {
    // A fresh data dir each run: the server seeds the built-in demo.
    // The browser tests make many lookups from one address: relax the limits
    // (the Rust integration tests check them).
    command: `rm -rf end2end/.data && ${bin} serve --addr 127.0.0.1:${port} --data-dir end2end/.data --config end2end/order-status.toml`,
    env: {
      ORDER_STATUS_LIMIT_PAGES: "100000/s",
      ORDER_STATUS_LIMIT_LOOKUP: "100000/s",
      ORDER_STATUS_LIMIT_LOGIN: "100000/s",
      ORDER_STATUS_LIMIT_ORDER_FAILURES: "100000/1m",
      // So the pages show "Continue shopping" (and axe checks it).
      ORDER_STATUS_SHOP_URL: "https://shop.example/",
      // The merchant's page that frames the lookup form: embed.spec.ts
      // serves it on the next port (a page of this machine: Chromium keeps
      // a page from elsewhere from framing a local one).
      ORDER_STATUS_EMBED_ORIGINS: `http://127.0.0.1:${port + 1}`,
    },
    cwd: "..",
    url: `http://127.0.0.1:${port}/`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
  },
});
