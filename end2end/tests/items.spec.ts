// The parts of Shopify's own status page a shopper looks for: a picture,
// price and whereabouts for every item, the order summary, and places named
// in the page's language. At phone and desktop widths, JS on and off.
import { test, expect } from "@playwright/test";
import { demo } from "./demo";
import { openStatus } from "./helpers";

const sizes = [
  { name: "phone", viewport: { width: 375, height: 740 } },
  { name: "desktop", viewport: { width: 1280, height: 900 } },
];

for (const size of sizes) {
  test.describe(size.name, () => {
    test.use({ viewport: size.viewport });

    test("every item has its picture, price and where it is", async ({ page }) => {
      await openStatus(page, demo("splitShipment"));
      const items = page.getByRole("region", { name: "Items" });
      const lines = items.locator("li.line");
      await expect(lines).toHaveCount(2);
      for (const line of await lines.all()) {
        const img = line.locator("img.thumb");
        const title = await line.locator(".title").innerText();
        await expect(img).toHaveAttribute("alt", title);
        await expect(img).toHaveAttribute("loading", "lazy");
        await img.scrollIntoViewIfNeeded();
        // Fixed size: the box is there before the picture arrives.
        const box = await img.boundingBox();
        expect(box?.width).toBe(56);
        expect(box?.height).toBe(56);
        await expect(line.locator(".price")).toHaveText(/each$/);
      }
      // Each item says which package it is in, and links to it.
      await expect(items.getByRole("link", { name: /in package 1 of 2/ })).toHaveAttribute("href", "#package-1");
      await expect(items.getByRole("link", { name: /in package 2 of 2/ })).toHaveAttribute("href", "#package-2");
      // Nothing wider than the screen.
      const page_box = await page.locator("main").boundingBox();
      expect(page_box!.width).toBeLessThanOrEqual(size.viewport.width);
    });

    test("a partly shipped order says what is still waiting, per item", async ({ page }) => {
      await openStatus(page, demo("partlyShipped"));
      const items = page.getByRole("region", { name: "Items" });
      await expect(items).toContainText(/not shipped yet/);
      await expect(items).toContainText(/shipped: |in package/);
    });

    test("the order summary adds up like Shopify's", async ({ page }) => {
      await openStatus(page, demo("partiallyRefunded"));
      const totals = page.locator("dl.totals");
      await expect(totals.getByText("Subtotal")).toBeVisible();
      await expect(totals.getByText(/^Shipping \((Standard|Express)\)$/)).toBeVisible();
      await expect(totals.getByText("Total", { exact: true })).toBeVisible();
      await expect(totals.getByText("Refunded")).toBeVisible();
      await expect(totals.getByText("Paid after refunds")).toBeVisible();
    });
  });
}

test("the product pictures load, from this site", async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "reading an image's size needs JavaScript");
  await openStatus(page, demo("delivered"));
  const imgs = page.locator("img.thumb");
  for (const img of await imgs.all()) {
    await img.scrollIntoViewIfNeeded();
    await expect(img).toHaveAttribute("src", /^\/demo\/products\//);
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
  }
});

// CLDR's names of the demo's countries in each language.
const countries: Record<string, Record<string, string>> = {
  SE: { en: "Sweden", sv: "Sverige", de: "Schweden", fr: "Suède", da: "Sverige", nb: "Sverige", fi: "Ruotsi" },
  US: { en: "United States", sv: "USA", de: "Vereinigte Staaten", fr: "États-Unis", da: "USA", nb: "USA", fi: "Yhdysvallat" },
  GB: {
    en: "United Kingdom",
    sv: "Storbritannien",
    de: "Vereinigtes Königreich",
    fr: "Royaume-Uni",
    da: "Storbritannien",
    nb: "Storbritannia",
    fi: "Yhdistynyt kuningaskunta",
  },
  DE: { en: "Germany", sv: "Tyskland", de: "Deutschland", fr: "Allemagne", da: "Tyskland", nb: "Tyskland", fi: "Saksa" },
  FR: { en: "France", sv: "Frankrike", de: "Frankreich", fr: "France", da: "Frankrig", nb: "Frankrike", fi: "Ranska" },
};

test("the country is named in the page's language", async ({ page }) => {
  const o = demo("inTransit");
  const names = countries[o.countryCode];
  expect(names, `a demo country: ${o.countryCode}`).toBeDefined();
  await openStatus(page, o);
  await expect(page.getByText(`Shipping to ${o.city}, ${names.en}`)).toBeVisible();
  await page.goto(page.url().split("?")[0] + "?lang=sv");
  await expect(page.getByText(`Skickas till ${o.city}, ${names.sv}`)).toBeVisible();
});

// A carrier's words in the tracking history are a <q>: the browser quotes
// them by the page's language. Chromium's own French guillemets touch the
// words; French sets them apart with a no-break space (style/main.css), as
// the carrier's latest line above the history does from the locale.
test("the carrier's words are quoted the way the page's language quotes", async ({ page }) => {
  await openStatus(page, demo("delivered"));
  const quotes = () => page.locator(".events q.said").first().evaluate((q) => getComputedStyle(q).quotes);
  await page.goto(page.url().split("?")[0] + "?lang=fr");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  expect(await quotes()).toBe('"«\u00a0" "\u00a0»" "“" "”"');
  const latest = await page.locator(".carrier-latest").textContent();
  expect(latest).toContain("«\u00a0");
  expect(latest).toContain("\u00a0»");
  // Other languages keep the browser's own (German „…“, English “…”).
  await page.goto(page.url().split("?")[0] + "?lang=de");
  expect(await quotes()).toBe("auto");
});

// Every language, on a phone and a desktop: the page is in it, items and
// summary included.
const languages: [string, { items: string; total: string }][] = [
  ["en", { items: "Items", total: "Total" }],
  ["sv", { items: "Varor", total: "Totalt" }],
  ["de", { items: "Artikel", total: "Gesamt" }],
  ["fr", { items: "Articles", total: "Total" }],
  ["da", { items: "Varer", total: "I alt" }],
  ["nb", { items: "Varer", total: "Totalt" }],
  ["fi", { items: "Tuotteet", total: "Yhteensä" }],
];

for (const size of sizes) {
  test.describe(`in every language, ${size.name}`, () => {
    test.use({ viewport: size.viewport });
    for (const [code, want] of languages) {
      test(`the status page in ${code}`, async ({ page }) => {
        await openStatus(page, demo("splitShipment"));
        await page.goto(page.url().split("?")[0] + `?lang=${code}`);
        await expect(page.locator("html")).toHaveAttribute("lang", code);
        await expect(page.getByRole("region", { name: want.items })).toBeVisible();
        await expect(page.locator("dl.totals").getByText(want.total, { exact: true })).toBeVisible();
        // The destination's country in this language, from CLDR.
        const o = demo("splitShipment");
        await expect(page.getByText(`${o.city}, ${countries[o.countryCode][code]}`).first()).toBeVisible();
        // Nothing wider than the screen.
        const main = await page.locator("main").boundingBox();
        expect(main!.width).toBeLessThanOrEqual(size.viewport.width);
      });
    }
  });
}
