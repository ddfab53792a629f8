// The merchant's tools in the console: setting one of the shop's own
// statuses (end2end/order-status.toml defines two) that the shopper then
// sees, the problem-orders queue, and a bulk change's confirmation.
import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { noViolations, signIn } from "./helpers";

const root = path.resolve(__dirname, "../..");
const bin = path.resolve(root, process.env.ORDER_STATUS_BIN ?? "target/debug/order-status");

/** Paid, unshipped demo orders no other test uses (past the first 40),
 * so setting a status here changes nothing another test looks at. */
function quietOrders(): { name: string }[] {
  const out = execFileSync(bin, ["demo-data", "--orders", "400", "--seed", "42"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, RUST_LOG: "error" },
  });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .slice(40)
    .filter(
      (o) =>
        o.financial_status === "PAID" &&
        o.fulfillment_status === "UNFULFILLED" &&
        !o.cancelled_at &&
        !(o.fulfillments ?? []).length &&
        (o.fulfillment_orders ?? []).every((f: { status: string }) => f.status === "OPEN"),
    );
}

test("staff set a status with a note, and the shopper sees both", async ({ page, browser, javaScriptEnabled }, info) => {
  // One order per project: the two run at once against one server.
  const o = quietOrders()[info.project.name === "js-on" ? 0 : 1];
  const note = `Hand-checked (${info.project.name}).`;
  await signIn(page);
  await page.getByLabel("Search", { exact: true }).fill(o.name);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: o.name, exact: true }).click();
  await page.getByLabel("New status").selectOption({ label: "Quality check" });
  await page.getByLabel("Note for the shopper (optional)").fill(note);
  await page.getByRole("button", { name: "Save the status" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Status saved.");
  await expect(page.getByText(/^Now: Quality check, since/)).toBeVisible();
  if (javaScriptEnabled) await noViolations(page);

  await page.getByRole("button", { name: "Create link" }).click();
  const link = await page.getByLabel("Link for the customer").inputValue();
  const customer = await browser.newContext();
  const shopper = await customer.newPage();
  await shopper.goto(link);
  await expect(shopper.locator(".headline")).toHaveText("Quality check");
  await expect(shopper.getByText("We check every item before it ships.")).toBeVisible();
  await expect(shopper.getByText(note)).toBeVisible();
  await expect(shopper.locator(".steps .current")).toContainText("Quality check");
  await shopper.goto(`${link}?lang=sv`);
  await expect(shopper.locator(".headline")).toHaveText("Kvalitetskontroll");
  await customer.close();
});

test("the problem queue lists orders with their reason and links them", async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  await page.getByRole("link", { name: "Problem orders" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Problem orders");
  await page.getByRole("link", { name: /^Delivery failed \(\d+\)$/ }).click();
  await expect(page).toHaveURL(/reason=delivery_failed/);
  const rows = page.locator("li.problem");
  expect(await rows.count()).toBeGreaterThan(0);
  for (const reason of await rows.locator("h2 .badge").allTextContents()) {
    expect(reason).toBe("Delivery failed");
  }
  if (javaScriptEnabled) await noViolations(page);
  await rows.first().locator("h2 a").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Order #\d+$/);
});

test("a bulk change shows its count and changes nothing until confirmed", async ({ page, javaScriptEnabled }) => {
  await signIn(page);
  await page.goto("/staff?payment=PENDING");
  const count = Number((await page.locator(".count").textContent())?.match(/\d+/)?.[0]);
  expect(count).toBeGreaterThan(0);
  await page.getByLabel("New status").selectOption({ label: "In production" });
  await page.getByRole("button", { name: "Prepare the change" }).click();
  await expect(page).toHaveURL(/\/staff\/bulk\/[0-9a-f]+$/);
  await expect(page.getByText(`Set “In production” on ${count} orders (Payment: Pending)?`)).toBeVisible();
  // What it will do, before anything changes.
  await expect(page.getByText(`Orders it changes: ${count}.`)).toBeVisible();
  await expect(page.getByRole("button", { name: `Yes, change ${count} orders` })).toBeVisible();
  if (javaScriptEnabled) await noViolations(page);
  await page.getByRole("link", { name: "Cancel: change nothing" }).click();
  await expect(page).toHaveURL(/\/staff$/);
});
