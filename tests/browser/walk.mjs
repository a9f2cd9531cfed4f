// A shopper's walk through the storefront in Debian's Chromium: home → search → add from the
// results (with JavaScript without leaving the page) → product → add to cart → promo code →
// checkout → order status. Run by tests/e2e/browser.rs:
//
//   node walk.mjs <edge URL> <sku> <js|nojs>
//
// Prints one JSON line ({"order": "/orders/..."}) and exits 0, or exits 1 naming the step
// that failed.
import { chromium } from "playwright-core";

const [base, sku, mode] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let step = "start";
try {
  const context = await browser.newContext({
    javaScriptEnabled: mode === "js",
    // What a CDN in France would send.
    extraHTTPHeaders: { "x-meridian-country": "FR" },
  });
  const page = await context.newPage();
  const expectText = async (text) => {
    const body = await page.textContent("body");
    if (!body.includes(text)) throw new Error(`expected “${text}” on ${page.url()}`);
  };

  step = "home";
  await page.goto(`${base}/`);
  await expectText("Fresh groceries, next door");

  step = "search";
  await page.fill("#q", "baguette");
  await Promise.all([page.waitForURL(/\/search\?q=baguette/), page.click("form[role=search] button")]);
  await expectText("Results for");

  step = "add from the results";
  const card = page.locator("article", { has: page.locator(`a[href="/p/${sku}"]`) });
  if (mode === "js") {
    // The card's script adds without leaving the page.
    await page.evaluate(() => { window.stayed = true; });
    await card.locator("form.card-add button").click();
    await page.waitForFunction(() => document.getElementById("cart-link")?.textContent === "Cart (1)");
    if (!(await page.evaluate(() => window.stayed === true))) throw new Error("the page was reloaded");
    if (!page.url().includes("/search?q=baguette")) throw new Error(`left the results for ${page.url()}`);
    await expectText("Added 1 to your cart.");
  } else {
    await Promise.all([page.waitForURL(/\/search\?q=baguette.*added=/), card.locator("form.card-add button").click()]);
    await expectText("Added to your cart.");
    await expectText("Cart (1)");
  }

  step = "product";
  await Promise.all([page.waitForURL(new RegExp(`/p/${sku}$`)), page.click(`a[href="/p/${sku}"]`)]);
  await expectText("In stock");

  step = "add to cart";
  await page.fill("#quantity", "3");
  await Promise.all([page.waitForURL(/\/cart$/), page.click("form.add button")]);
  await expectText("Your cart");

  step = "promo";
  await page.fill("#promo", "NOPE10");
  await Promise.all([page.waitForURL(/\/cart$/), page.click("form.promo button")]);
  await expectText("The promo code NOPE10 does not exist.");

  step = "checkout";
  await Promise.all([page.waitForURL(/\/checkout$/), page.click('a[href="/checkout"]')]);
  await page.fill("#name", "Browser Canary");
  await page.fill("#email", "browser-canary@shopper.invalid");
  await page.fill("#line1", "3 quai des Célestins");
  await page.fill("#city", "Lyon");
  await page.fill("#postal_code", "69002");
  await page.selectOption("#country", "FR");
  await page.check("#token-tok_approve");
  await Promise.all([page.waitForURL(/\/orders\//), page.click("form.checkout button[type=submit]")]);

  step = "order status";
  await expectText("Confirmed");
  const url = new URL(page.url());
  console.log(JSON.stringify({ order: url.pathname }));
  await browser.close();
} catch (error) {
  let shown = "";
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) shown = `\n--- ${pages[0].url()} ---\n${(await pages[0].textContent("main")) ?? ""}`;
  } catch {}
  console.error(`browser walk failed at “${step}” (${mode}): ${error.message}${shown}`);
  await browser.close();
  process.exit(1);
}
