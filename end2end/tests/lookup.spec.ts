import { test, expect } from "@playwright/test";
import { demo } from "./demo";
import { lookUp, openStatus } from "./helpers";

test("the lookup page shows the shop and the form", async ({ page }) => {
  const res = await page.goto("/");
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Track your order");
  await expect(page.getByRole("link", { name: "Demo Store" })).toBeVisible();
  await expect(page.getByLabel("Order number")).toBeVisible();
  await expect(page.getByLabel("Email")).toBeVisible();
  await expect(page.getByRole("button", { name: "Find my order" })).toBeVisible();
});

test("a shopper finds an order by number and email", async ({ page }) => {
  const o = demo("inTransit");
  await openStatus(page, o);
  await expect(page.locator(".headline")).toContainText("Arriving");
  await expect(page.locator('[aria-current="step"]')).toContainText("Shipped");
  await expect(page.getByRole("heading", { name: "Package 1 of 1" })).toBeVisible();
});

test("the order number may be typed with # and spaces, the email in capitals", async ({ page }) => {
  const o = demo("delivered");
  await lookUp(page, ` #${o.number} `, o.email.toUpperCase());
  await expect(page).toHaveURL(/\/status\//);
});

test("a wrong email gets one plain message and keeps what was typed", async ({ page }) => {
  const o = demo("inTransit");
  await lookUp(page, o.number, "someone.else@example.com");
  await expect(page.getByRole("alert")).toHaveText(/We couldn't find an order with those details/);
  await expect(page.getByLabel("Order number")).toHaveValue(o.number);
  await expect(page.getByLabel("Email")).toHaveValue("someone.else@example.com");
});

test("empty fields get a message each", async ({ page }) => {
  await lookUp(page, "", "");
  await expect(page.getByText("Enter your order number.")).toBeVisible();
  await expect(page.getByText("Enter the email address you ordered with.")).toBeVisible();
});

test("a Track my order link pre-fills the number", async ({ page }) => {
  await page.goto("/?order=1042");
  await expect(page.getByLabel("Order number")).toHaveValue("1042");
});

test("a shopper can have the link emailed, with the same answer whatever was typed", async ({ page }) => {
  const o = demo("inTransit");
  await page.goto("/");
  await page.getByRole("link", { name: /email you the link/ }).click();
  await expect(page).toHaveURL(/\/link$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Email me my link");
  await page.getByLabel("Order number").fill(o.number);
  await page.getByLabel("Email").fill(o.email);
  await page.getByRole("button", { name: "Email me the link" }).click();
  const answer = page.getByRole("status");
  await expect(answer).toHaveText(/If an order matches, we've sent the link to that address/);
  const right = await answer.textContent();
  await page.getByLabel("Order number").fill(o.number);
  await page.getByLabel("Email").fill("someone.else@example.com");
  await page.getByRole("button", { name: "Email me the link" }).click();
  await expect(page.getByRole("status")).toHaveText(right ?? "");
  // What was typed is not kept on the page.
  await expect(page.getByLabel("Email")).toHaveValue("");
});
