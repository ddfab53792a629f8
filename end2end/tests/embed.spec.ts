// The lookup form framed on a merchant's own page, served by this test on
// the port after the site's (the origin in the server's embed_origins).
import { test, expect } from "@playwright/test";
import { createServer, Server } from "node:http";
import { demo } from "./demo";

// The merchant's page, served on the port after the site's while `use`
// runs (one project only: two would want the same port).
async function withMerchantPage(baseURL: string, query: string, use: (url: string) => Promise<void>) {
  const site = new URL(baseURL);
  const port = Number(site.port) + 1;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(merchantPage(site.origin, query));
  });
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  try {
    await use(`http://127.0.0.1:${port}/help`);
  } finally {
    await new Promise((done) => server.close(done));
  }
}

function merchantPage(base: string, query: string): string {
  return `<!doctype html><html lang="en"><head><title>Help</title>
<style>body { background: rgb(16, 32, 48); color: #fff; font-family: sans-serif; }</style></head>
<body><h1>Where is my order?</h1>
<iframe id="track" src="${base}/embed${query}" title="Track your order" style="width: 100%; border: 0" height="100"></iframe>
<script>
addEventListener("message", (e) => {
  if (e.origin === "${base}" && e.data && e.data.type === "order-status:height") {
    document.getElementById("track").height = e.data.height;
  }
});
</script></body></html>`;
}

test("the framed form fits its frame, follows the page's look and opens the order in the whole window", async ({ page, baseURL }, info) => {
  test.skip(info.project.name === "js-off", "the merchant's page listens with a script");
  await withMerchantPage(baseURL!, "?scheme=dark&accent=aa3300", async (url) => {
    await page.goto(url);
    const frame = page.frameLocator("#track");
    await expect(frame.getByRole("heading", { level: 1 })).toHaveText("Track your order");
    // The frame grows to the form's height: no inner scroll bar.
    await expect
      .poll(async () => Number(await page.locator("#track").getAttribute("height")))
      .toBeGreaterThan(300);
    const inner = page.frames().find((f) => f.url().includes("/embed"))!;
    // Transparent over the merchant's dark page, with the merchant's accent.
    expect(await inner.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgba(0, 0, 0, 0)");
    // Light words over the dark page (axe, assuming white behind a
    // transparent page, cannot check this one).
    expect(await inner.evaluate(() => getComputedStyle(document.querySelector("h1")!).color)).toBe("rgb(230, 237, 243)");
    expect(await inner.evaluate(() => getComputedStyle(document.querySelector("button[type=submit]")!).backgroundColor)).toBe(
      "rgb(170, 51, 0)",
    );
    await expect(frame.getByRole("link", { name: /email you the link/ })).toHaveAttribute("target", "_blank");
    // A lookup opens the status page in the whole window (it is never framed).
    const o = demo("inTransit");
    await frame.getByLabel("Order number").fill(String(o.number));
    await frame.getByLabel("Email").fill(o.email);
    await frame.getByRole("button", { name: "Find my order" }).click();
    await expect(page).toHaveURL(/\/status\//);
  });
});
