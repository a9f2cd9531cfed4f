// A shopper's account in Debian's Chromium: sign up in France → save an address → buy with
// the address prefilled → see the order in the account → browse "from the US" and still be
// served by eu-west in EUR → download the data → erase the account. Run by
// tests/e2e/browser.rs:
//
//   node account.mjs <edge URL> <sku> <js|nojs> <tag> <eu-west maildir>
//
// Prints one JSON line ({"order": "...", "export": {...}}) and exits 0, or exits 1 naming
// the step that failed.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, sku, mode, tag, maildir] = process.argv.slice(2);

// The confirmation code eu-west mailed to `to`, from its SMTP receiver's maildir.
async function mailedCode(to) {
  for (let i = 0; i < 200; i++) {
    for (const sub of ["new", "cur"]) {
      const dir = join(maildir, sub);
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) {
        const text = readFileSync(join(dir, file), "utf8");
        const code = text.match(/Your confirmation code: ([A-Z0-9]{4}-[A-Z0-9]{4})/);
        if (text.includes(`To: ${to}`) && code) return code[1];
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no code for ${to} in ${maildir}`);
}
const email = `account-${tag}@shopper.invalid`;
const password = `walk-password-${tag}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let step = "start";
try {
  const context = await browser.newContext({
    javaScriptEnabled: mode === "js",
    extraHTTPHeaders: { "x-meridian-country": "FR" },
  });
  const page = await context.newPage();
  const expectText = async (text) => {
    const body = await page.textContent("body");
    if (!body.includes(text)) throw new Error(`expected “${text}” on ${page.url()}`);
  };
  const submit = (selector, url) => Promise.all([page.waitForURL(url), page.click(selector)]);

  step = "sign up";
  await page.goto(`${base}/`);
  await Promise.all([page.waitForURL(/\/account\/sign-in$/), page.click('a[href="/account/sign-in"]')]);
  await Promise.all([page.waitForURL(/\/account\/sign-up$/), page.click('a[href="/account/sign-up"]')]);
  // A short password is refused next to its field, with the other fields kept.
  await page.fill("#name", `Canary ${tag}`);
  await page.fill("#email", email);
  await page.fill("#password", "short");
  await page.selectOption("#country", "FR");
  await page.check("#accept_privacy_notice");
  await submit("form.account button[type=submit]", /\/account\/sign-up$/);
  await expectText("Use at least 10 characters");
  if ((await page.inputValue("#email")) !== email) throw new Error("the e-mail was not kept");
  if ((await page.inputValue("#password")) !== "") throw new Error("a password came back");
  await page.fill("#password", password);
  await page.check("#accept_privacy_notice");
  await submit("form.account button[type=submit]", /\/account\/sign-up$/);
  await expectText("Check your e-mail");

  step = "confirm";
  await page.fill("#code", "ABCD-2345");
  await submit("form.confirm button[type=submit]", /\/account\/confirm$/);
  await expectText("That code is wrong or has expired.");
  await page.fill("#code", await mailedCode(email));
  await submit("form.confirm button[type=submit]", /\/account$/);
  await expectText("Your account and orders are kept in our Europe (West) region.");
  await expectText("No orders yet.");

  step = "address";
  await submit('a[href="/account/addresses"]', /\/account\/addresses$/);
  await page.fill("#name", `Canary ${tag}`);
  await page.fill("#line1", `${tag} quai des Célestins`);
  await page.fill("#city", "Lyon");
  await page.fill("#postal_code", "69002");
  await page.selectOption("#country", "FR");
  await submit("form.address button[type=submit]", /\/account\/addresses$/);
  await expectText("(default)");

  step = "buy";
  await page.goto(`${base}/p/${sku}`);
  await page.fill("#quantity", "1");
  await submit("form.add button", /\/cart$/);
  await submit('a[href="/checkout"]', /\/checkout$/);
  if ((await page.inputValue("#line1")) !== `${tag} quai des Célestins`) throw new Error("the saved address was not prefilled");
  if ((await page.inputValue("#email")) !== email) throw new Error("the e-mail was not prefilled");
  await page.check("#token-tok_approve");
  await submit("form.checkout button[type=submit]", /\/orders\//);
  await expectText("Confirmed");
  const order = new URL(page.url()).pathname.split("/")[2];

  step = "account orders";
  await submit('a[href="/account"]', /\/account$/);
  await expectText(`Order ${order.slice(0, 8)}`);
  await submit(`a[href="/account/orders/${order}"]`, new RegExp(`/account/orders/${order}$`));
  await expectText("Confirmed");

  step = "abroad";
  await context.setExtraHTTPHeaders({ "x-meridian-country": "US" });
  await page.goto(`${base}/p/${sku}`);
  await expectText("EUR");
  await page.goto(`${base}/region`);
  await expectText("eu-west");
  await expectText("prices are in EUR");

  step = "export";
  await page.goto(`${base}/account/privacy`);
  const exported = await page.request.get(`${base}/account/export`);
  if (exported.status() !== 200) throw new Error(`export answered ${exported.status()}`);
  const data = await exported.json();
  if (data.accounts[0].account.email !== email) throw new Error("the export lacks the account");
  if (data.orders.length !== 1 || data.orders[0].order.order_id !== order) throw new Error("the export lacks the order");

  step = "erase";
  await page.fill("#password", "not the password");
  await submit("form.erase button[type=submit]", /\/account\/erase$/);
  await expectText("The password is wrong.");
  await page.fill("#password", password);
  await submit("form.erase button[type=submit]", /\/account\/erase$/);
  await expectText("Your account was erased");
  await expectText("Sign in");
  await page.goto(`${base}/account`);
  if (!/\/account\/sign-in$/.test(page.url())) throw new Error("still signed in after erasure");

  console.log(JSON.stringify({ order, email }));
  await browser.close();
} catch (error) {
  let shown = "";
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) shown = `\n--- ${pages[0].url()} ---\n${(await pages[0].textContent("main")) ?? ""}`;
  } catch {}
  console.error(`account walk failed at “${step}” (${mode}): ${error.message}${shown}`);
  await browser.close();
  process.exit(1);
}
