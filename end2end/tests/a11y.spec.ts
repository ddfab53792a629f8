// axe-core injects a script, so these run in the JavaScript-on project only.
import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { demo } from "./demo";
import { lookUp, openStatus } from "./helpers";

test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, "axe needs JavaScript");

async function noViolations(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} mode`, () => {
    test.use({ colorScheme: scheme });

    test("lookup page", async ({ page }) => {
      await page.goto("/");
      await noViolations(page);
    });

    test("lookup page with errors", async ({ page }) => {
      await lookUp(page, "abc", "nope");
      await noViolations(page);
    });

    for (const kind of ["splitShipment", "cancelledByCustomer", "returned", "onHold"] as const) {
      test(`status page: ${kind}`, async ({ page }) => {
        await openStatus(page, demo(kind));
        await noViolations(page);
      });
    }

    test("email me my link page, before and after", async ({ page }) => {
      await page.goto("/link");
      await noViolations(page);
      await page.getByLabel("Order number").fill("1001");
      await page.getByLabel("Email").fill("someone@example.com");
      await page.getByRole("button", { name: "Email me the link" }).click();
      await noViolations(page);
    });

    // Light, in both of the visitor's schemes (a page that declares no
    // scheme is light). The dark form is transparent over the merchant's
    // dark page, which axe cannot see (it assumes white behind it); its
    // colours are checked framed, in embed.spec.ts.
    test("the form for a merchant's page", async ({ page }) => {
      await page.goto("/embed");
      await noViolations(page);
    });

    test("invalid link page", async ({ page }) => {
      await page.goto("/status/nope");
      await noViolations(page);
    });
  });
}

// Every page a shopper sees, in every language (lang attributes, names of
// landmarks and controls, contrast of the longer words). The status page
// is opened in English, then `?lang=` switches and the cookie keeps the
// language for the pages after it.
for (const lang of ["en", "sv", "de", "fr", "da", "nb", "fi"]) {
  test(`every shopper page in ${lang}`, async ({ page }) => {
    await openStatus(page, demo("splitShipment"));
    await page.goto(page.url().split("?")[0] + `?lang=${lang}`);
    await expect(page.locator("html")).toHaveAttribute("lang", lang);
    await noViolations(page);
    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", lang);
    await noViolations(page);
    await page.locator("nav.lang summary").click();
    await noViolations(page);
    await page.goto("/link");
    await noViolations(page);
    await page.goto("/status/nope");
    await noViolations(page);
  });
}
