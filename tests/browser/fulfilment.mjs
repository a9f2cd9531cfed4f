// A grocery shopper in Debian's Chromium: holds a delivery slot, fills the cart, checks out
// with "substitute if unavailable" ticked; later, reads the order page after picking. Run by
// tests/e2e/delivery.rs:
//
//   node fulfilment.mjs <storefront URL> <js|nojs> buy <email> <sku> <sku>
//   node fulfilment.mjs <storefront URL> <js|nojs> read <order path>
//
// Prints one JSON line ({"order": "/orders/...", "slot": "..."} or {"text": "..."}) and
// exits 0, or exits 1 naming the step that failed.
import { chromium } from "playwright-core";

const [base, mode, action, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let step = "start";
try {
  const context = await browser.newContext({
    javaScriptEnabled: mode === "js",
    // What a CDN in the United States would send.
    extraHTTPHeaders: { "x-meridian-country": "US" },
  });
  const page = await context.newPage();
  const expectText = async (text) => {
    const body = await page.textContent("body");
    if (!body.includes(text)) throw new Error(`expected “${text}” on ${page.url()}`);
  };

  if (action === "read") {
    step = "order page";
    await page.goto(`${base}${rest[0]}`);
    console.log(JSON.stringify({ text: await page.textContent("main") }));
    await browser.close();
    process.exit(0);
  }
  const [email, ...skus] = rest;

  step = "hold a slot";
  await page.goto(`${base}/delivery`);
  const slot = await page.getAttribute("li.slot form input[name=slot_id]", "value");
  await Promise.all([page.waitForURL(/\/delivery\?held=1/), page.click(`li.slot[data-slot="${slot}"] button`)]);
  await expectText("Held for you");

  for (const [i, sku] of skus.entries()) {
    step = `add ${sku}`;
    await page.goto(`${base}/p/${sku}`);
    await page.fill("#quantity", i === 0 ? "2" : "1");
    await Promise.all([page.waitForURL(/\/cart$/), page.click("form.add button")]);
  }

  step = "checkout";
  await Promise.all([page.waitForURL(/\/checkout$/), page.click('a[href="/checkout"]')]);
  if (!(await page.isChecked(`#slot-${slot}`))) throw new Error("the held slot is not chosen");
  for (const sku of skus) {
    if (!(await page.isChecked(`#substitute-${sku}`))) throw new Error(`${sku} is not ticked for a substitute`);
  }
  await page.fill("#name", "Chromium Grocer");
  await page.fill("#email", email);
  await page.fill("#line1", "9 Orchard Lane");
  await page.fill("#city", "Newark");
  await page.fill("#postal_code", "07102");
  await page.selectOption("#country", "US");
  await page.check("#token-tok_approve");
  await Promise.all([page.waitForURL(/\/orders\//), page.click("button.place-order")]);

  step = "order status";
  await expectText("Confirmed");
  await expectText("Delivery: ");
  const url = new URL(page.url());
  console.log(JSON.stringify({ order: url.pathname + url.search, slot }));
  await browser.close();
} catch (error) {
  let shown = "";
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) shown = `\n--- ${pages[0].url()} ---\n${(await pages[0].textContent("main")) ?? ""}`;
  } catch {}
  console.error(`fulfilment walk failed at “${step}” (${mode}): ${error.message}${shown}`);
  await browser.close();
  process.exit(1);
}
