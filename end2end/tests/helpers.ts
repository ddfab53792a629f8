import { expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { DemoOrder } from "./demo";

/** Fills and submits the lookup form, as a shopper would. */
export async function lookUp(page: Page, order: string, email: string) {
  await page.goto("/");
  await page.getByLabel("Order number").fill(order);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Find my order" }).click();
}

/** Looks up a demo order and waits for its status page. */
export async function openStatus(page: Page, o: DemoOrder) {
  await lookUp(page, o.number, o.email);
  await expect(page).toHaveURL(/\/status\//);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Order ${o.name}`);
}

/** Signs in to the staff console as the demo account. */
export async function signIn(page: Page) {
  await page.goto("/staff");
  await expect(page).toHaveURL(/\/staff\/login\?next=/);
  await page.getByLabel("Name").fill("demo");
  await page.getByLabel("Password").fill("order-status-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff$/);
  await expect(page.getByText("Signed in as demo")).toBeVisible();
}

/** axe on the current page, best-practice rules too (`region`: everything
 * inside a landmark). */
export async function noViolations(page: Page) {
  const r = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  expect(r.violations.map((v) => `${v.id}: ${v.help} ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}
