import { test, expect } from "@playwright/test";
import { demo } from "./demo";
import { noViolations, openStatus, signIn } from "./helpers";

// A shopper looks, and the merchant sees it counted; the period is chosen
// by dates with a plain form (JavaScript off too), and each chart's numbers
// download as CSV.
test("a shopper's visit shows on the insights page", async ({ page, browser }) => {
  const o = demo("inTransit");
  const shopper = await (await browser.newContext()).newPage();
  await openStatus(shopper, o);
  await signIn(page);
  await page.getByRole("link", { name: "Insights" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Insights");
  // Counted in memory at once; the page reads the same counters.
  await expect(page.getByText(/In this period: [1-9][\d,]* status pages seen/)).toBeVisible();
  await expect(page.getByRole("img", { name: "Shopper activity per day" })).toBeVisible();
  await page.getByLabel("From", { exact: true }).fill("2026-11-01");
  await page.getByLabel("To", { exact: true }).fill("2026-11-07");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/from=2026-11-01&to=2026-11-07/);
  const csv = page.getByRole("link", { name: "Download the numbers (CSV)" }).first();
  await expect(csv).toHaveAttribute("href", /\/staff\/insights\.csv\?chart=activity&from=2026-11-01&to=2026-11-07/);
  const res = await page.request.get((await csv.getAttribute("href"))!);
  expect(res.status()).toBe(200);
  expect((await res.text()).split("\n")[1]).toMatch(/^2026-11-01,/);
});

// Every language, desktop and phone, with the per-day tables opened:
// axe's best-practice rules included. Screenshots for the README.
for (const lang of ["en", "sv", "de", "fr", "da", "nb", "fi"]) {
  test(`the insights page in ${lang} has no accessibility violations`, async ({ page, javaScriptEnabled }) => {
    test.skip(!javaScriptEnabled, "axe needs JavaScript");
    test.setTimeout(60_000);
    await signIn(page);
    for (const size of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(size);
      await page.goto(`/staff/insights?days=90&lang=${lang}`);
      await expect(page.locator("html")).toHaveAttribute("lang", lang);
      await expect(page.locator(".chart svg").first()).toBeVisible();
      await noViolations(page);
      for (const summary of await page.locator("figure details summary").all()) {
        await summary.click();
      }
      await noViolations(page);
      if (lang === "en" || lang === "sv") {
        await page.screenshot({
          path: `test-results/insights-${lang}-${size.width}.png`,
          fullPage: true,
        });
      }
    }
  });
}
