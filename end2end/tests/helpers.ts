import { expect, Page } from "@playwright/test";
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
