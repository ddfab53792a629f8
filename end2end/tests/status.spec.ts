import { test, expect } from "@playwright/test";
import { demo, SCENARIO } from "./demo";
import { openStatus } from "./helpers";

const headlines: [keyof typeof SCENARIO, RegExp][] = [
  ["inTransit", /^Arriving /],
  ["delivered", /^Delivered on /],
  ["splitShipment", /^Arriving /],
  ["onHold", /^Your order is on hold: waiting for stock$/],
  ["cancelledByCustomer", /^Cancelled and refunded$/],
  ["returned", /^Returned and refunded$/],
  ["refunded", /^Refunded$/],
  ["returnInProgress", /^Return in progress$/],
  ["outForDelivery", /^Out for delivery$/],
  ["deliveryFailure", /^There's a problem with the delivery$/],
  ["partlyShipped", /^Partly shipped$/],
];

for (const [kind, headline] of headlines) {
  test(`status page: ${kind}`, async ({ page }) => {
    await openStatus(page, demo(kind));
    await expect(page.locator(".headline")).toHaveText(headline);
  });
}

test("a split shipment has a card per package", async ({ page }) => {
  await openStatus(page, demo("splitShipment"));
  await expect(page.getByRole("heading", { name: "Package 1 of 2" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Package 2 of 2" })).toBeVisible();
  const tracking = page.locator("#package-1 dd a");
  await expect(tracking).toHaveAttribute("href", /^https:\/\//);
});

test("a cancelled order says so with the reason and the refund", async ({ page }) => {
  await openStatus(page, demo("cancelledByCustomer"));
  const banner = page.getByRole("status");
  await expect(banner).toContainText("This order was cancelled");
  await expect(banner).toContainText("at your request");
  await expect(banner).toContainText("Your payment has been refunded.");
});

test("the share link opens the same page in a fresh browser", async ({ page, browser }) => {
  await openStatus(page, demo("splitShipment"));
  const link = await page.locator("#share-link").inputValue();
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/status\//);
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  const res = await other.goto(link);
  expect(res?.status()).toBe(200);
  await expect(other.getByRole("heading", { level: 1 })).toHaveText(`Order ${demo("splitShipment").name}`);
  await fresh.close();
});

test("a broken link gets a friendly page with the form", async ({ page }) => {
  const res = await page.goto("/status/this-is-not-a-link");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText("This link has expired or isn't valid");
  await expect(page.getByLabel("Order number")).toBeVisible();
});

test("the language switch turns the page Swedish and it stays so", async ({ page }) => {
  await openStatus(page, demo("delivered"));
  // The menu is a disclosure showing the current language.
  await page.locator("nav.lang summary").click();
  await page.getByRole("link", { name: "Svenska" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "sv");
  await expect(page.locator(".headline")).toHaveText(/^Levererad /);
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Spåra din beställning");
  await page.locator("nav.lang summary").click();
  await page.getByRole("link", { name: "English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });

  test("the status page fits a 320 px screen", async ({ page }) => {
    await openStatus(page, demo("splitShipment"));
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(page.locator(".headline")).toBeInViewport();
  });

  test("the language menu's seven entries fit and can be tapped", async ({ page }) => {
    await openStatus(page, demo("inTransit"));
    await page.locator("nav.lang summary").click();
    const links = page.locator("nav.lang a");
    await expect(links).toHaveCount(7);
    for (const link of await links.all()) {
      await expect(link).toBeInViewport({ ratio: 1 });
      const box = await link.boundingBox();
      expect(box!.height).toBeGreaterThanOrEqual(24);
    }
    await page.getByRole("link", { name: "Suomi" }).click();
    await expect(page.locator("html")).toHaveAttribute("lang", "fi");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Tilaus ${demo("inTransit").name}`);
  });
});

test("printed, the page keeps the facts and drops the chrome", async ({ page }) => {
  await openStatus(page, demo("splitShipment"));
  await page.emulateMedia({ media: "print", colorScheme: "dark" });
  await expect(page.locator(".headline")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Package 1 of 2" })).toBeVisible();
  await expect(page.locator("nav.lang")).toBeHidden();
  await expect(page.locator("section.share")).toBeHidden();
  // Black on white even when the screen is dark.
  const colors = await page.evaluate(() => {
    const s = getComputedStyle(document.body);
    return [s.color, s.backgroundColor];
  });
  expect(colors).toEqual(["rgb(0, 0, 0)", "rgb(255, 255, 255)"]);
  // A tracking link's address is written out after it.
  const after = await page
    .locator("#package-1 dd a")
    .evaluate((a) => getComputedStyle(a, "::after").content);
  expect(after).toContain("https://");
});

test("continue shopping leads back to the shop's own site", async ({ page }) => {
  await openStatus(page, demo("inTransit"));
  const back = page.getByRole("link", { name: "Continue shopping" });
  await expect(back).toHaveAttribute("href", "https://shop.example/");
});
