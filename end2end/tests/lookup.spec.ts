import { test, expect } from "@playwright/test";

test("the lookup page shows the shop and the form", async ({ page }) => {
  const res = await page.goto("/");
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Track your order");
  await expect(page.getByRole("link", { name: "Demo Store" })).toBeVisible();
  await expect(page.getByLabel("Order number")).toBeVisible();
  await expect(page.getByLabel("Email")).toBeVisible();
  await expect(page.getByRole("button", { name: "Find my order" })).toBeVisible();
});
