//! The residency proof: check out one shopper per region through the edge with canary
//! personal data (unique strings in name, email and address), then search every place data
//! could leak to (each region's database, all tables, all text columns; the edge key-value
//! store; the logs of every process; the exported spans) for each canary.
//!
//! It passes when every canary is found in its home region's database and nowhere else.
//! Its erasure round adds one more canary per region that signs up, saves an address, buys
//! signed in and then erases the account from the privacy page: that canary must be found
//! nowhere at all, its home region's database included.
//! `regional-core audit` runs it against a running system and prints [`Report`]; the
//! end-to-end tests run it against theirs.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use region_config::{CountryCode, RegionConfig, RegionId};
use tokio_postgres::NoTls;

/// The personal data one canary shopper gives at checkout: each string is unique to this
/// run, so a hit anywhere is this shopper's data.
#[derive(Debug, Clone)]
pub struct Canary {
    pub region: RegionId,
    pub country: CountryCode,
    pub name: String,
    pub email: String,
    pub line1: String,
    /// An erasure canary: it signs up, buys, then erases its account, and must be found
    /// nowhere.
    pub erased: bool,
}

impl Canary {
    /// A canary for `region`, shopping from `country`, marked with `tag` (unique per run).
    pub fn new(region: RegionId, country: CountryCode, tag: &str) -> Self {
        // The region before the tag: no canary is then a substring of another's (`ap-south`
        // is a prefix of `ap-southeast`).
        let mark = format!("{}{tag}", region.as_str().replace('-', ""));
        Self {
            name: format!("Canary Name{mark}"),
            email: format!("canary-{mark}@audit.invalid"),
            line1: format!("{mark} Canary Street"),
            region,
            country,
            erased: false,
        }
    }

    /// An erasure canary for `region` (its strings differ from [`Canary::new`]'s for the
    /// same tag).
    pub fn erased(region: RegionId, country: CountryCode, tag: &str) -> Self {
        Self {
            erased: true,
            ..Self::new(region, country, &format!("erased{tag}"))
        }
    }

    /// The strings searched for, with what each is.
    pub fn needles(&self) -> [(&'static str, &str); 3] {
        [
            ("name", &self.name),
            ("email", &self.email),
            ("address", &self.line1),
        ]
    }
}

/// Two canaries per region of `regions` that has a core, each shopping from a country
/// assigned to that region: one that checks out as a guest, one that erases its account.
pub fn canaries(regions: &RegionConfig, tag: &str) -> Vec<Canary> {
    regions
        .regions()
        .iter()
        .filter(|r| r.core_url.is_some())
        .filter_map(|r| {
            let country = r
                .countries
                .iter()
                .copied()
                .find(|c| regions.home_region(*c).id == r.id)?;
            Some([
                Canary::new(r.id.clone(), country, tag),
                Canary::erased(r.id.clone(), country, tag),
            ])
        })
        .flatten()
        .collect()
}

/// Checks `canary` out through the edge's storefront at `edge`, as a browser would
/// (country header, cookies, CSRF token, the checkout form), buying one unit of the first
/// in-stock product of `aisle`. Answers the order page's path.
pub async fn check_out(edge: &str, canary: &Canary, aisle: &str) -> anyhow::Result<String> {
    let browser = Browser::new(edge, canary.country)?;
    check_out_in(&browser, canary, aisle).await
}

/// [`check_out`] in `browser`'s session (signed in or not).
async fn check_out_in(browser: &Browser, canary: &Canary, aisle: &str) -> anyhow::Result<String> {
    let (_, listing) = browser.get(&format!("/c/{aisle}")).await?;
    let mut product = None;
    for sku in links(&listing, "href=\"/p/") {
        let (status, page) = browser.get(&format!("/p/{sku}")).await?;
        if status == 200 && page.contains("In stock") {
            product = Some((sku, page));
            break;
        }
    }
    let Some((sku, page)) = product else {
        bail!(
            "no product of /c/{aisle} is in stock for {}",
            canary.country
        );
    };
    let csrf = hidden(&page, "csrf").context("the product page has no CSRF token")?;
    let (status, _) = browser
        .post(
            "/cart/add",
            &[("sku", &sku), ("quantity", "1"), ("csrf", &csrf)],
        )
        .await?;
    if status != 303 {
        bail!("adding {sku} to the cart answered {status}");
    }
    let (status, form) = browser.get("/checkout").await?;
    if status != 200 {
        bail!("the checkout page answered {status}");
    }
    let attempt = hidden(&form, "attempt").context("the checkout form has no attempt key")?;
    let country = canary.country.as_str();
    let postal_code = postal_code_of(country);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("attempt", &attempt),
        ("name", &canary.name),
        ("email", &canary.email),
        ("line1", &canary.line1),
        ("city", "Audit City"),
        ("postal_code", &postal_code),
        ("country", country),
        ("token", "tok_approve"),
    ];
    // A storefront that delivers in slots lists them; the canary takes the first open one.
    let slot = first_open_slot(&form);
    if let Some(slot) = &slot {
        fields.push(("slot_id", slot));
    }
    let (status, location) = browser.post("/checkout", &fields).await?;
    match location {
        Some(order) if status == 303 && order.starts_with("/orders/") => Ok(order),
        _ => bail!("the checkout answered {status} without an order"),
    }
}

/// The confirmation code mailed to `to`, read from the home region's mail receiver (a
/// maildir), waiting up to 20 s for it.
async fn mailed_code(mailbox: &std::path::Path, to: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found = maildir_messages(mailbox)
            .unwrap_or_default()
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .find(|m| m.contains(&format!("To: {to}")))
            .and_then(|m| confirmation_code(&m));
        if let Some(code) = found {
            return Ok(code);
        }
        if std::time::Instant::now() > deadline {
            bail!("no confirmation code reached {}", mailbox.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The erasure canary's walk through the edge's storefront: signs up in its country
/// (confirming with the code its home region mailed), saves
/// its address, checks out signed in (the order joins the account), downloads its data and
/// erases the account from the privacy page. Answers the order page's path.
pub async fn sign_up_buy_and_erase(
    edge: &str,
    canary: &Canary,
    aisle: &str,
    mailbox: &std::path::Path,
) -> anyhow::Result<String> {
    let browser = Browser::new(edge, canary.country)?;
    let (_, page) = browser.get("/account/sign-up").await?;
    let csrf = hidden(&page, "csrf").context("the sign-up page has no CSRF token")?;
    let password = format!("audit-{}", uuid::Uuid::new_v4().simple());
    let country = canary.country.as_str();
    let (status, _) = browser
        .post(
            "/account/sign-up",
            &[
                ("csrf", &csrf),
                ("name", &canary.name),
                ("email", &canary.email),
                ("password", &password),
                ("country", country),
                ("accept_privacy_notice", "yes"),
            ],
        )
        .await?;
    if status != 200 {
        bail!("signing up answered {status}");
    }
    let code = mailed_code(mailbox, &canary.email).await?;
    let (status, location) = browser
        .post(
            "/account/confirm",
            &[
                ("csrf", &csrf),
                ("email", &canary.email),
                ("country", country),
                ("code", &code),
            ],
        )
        .await?;
    if status != 303 || location.as_deref() != Some("/account") {
        bail!("confirming the account answered {status}");
    }
    let postal_code = postal_code_of(country);
    let (status, _) = browser
        .post(
            "/account/addresses",
            &[
                ("csrf", &csrf),
                ("name", &canary.name),
                ("line1", &canary.line1),
                ("city", "Audit City"),
                ("postal_code", &postal_code),
                ("country", country),
            ],
        )
        .await?;
    if status != 303 {
        bail!("saving the address answered {status}");
    }
    let order = check_out_in(&browser, canary, aisle).await?;
    let (status, export) = browser.get("/account/export").await?;
    if status != 200 || !export.contains(&canary.email) {
        bail!("the export answered {status} without the account");
    }
    let (status, _) = browser
        .post(
            "/account/erase",
            &[("csrf", &csrf), ("password", &password)],
        )
        .await?;
    if status != 200 {
        bail!("erasing the account answered {status}");
    }
    Ok(order)
}

struct Browser {
    http: reqwest::Client,
    base: String,
    country: CountryCode,
}

impl Browser {
    fn new(base: &str, country: CountryCode) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
            country,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-meridian-country", self.country.as_str())
            .send()
            .await
            .with_context(|| format!("GET {path} failed"))?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Option<String>)> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-meridian-country", self.country.as_str())
            .form(form)
            .send()
            .await
            .with_context(|| format!("POST {path} failed"))?;
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        Ok((response.status().as_u16(), location))
    }
}

/// The values of the attribute that follows `marker` (up to the closing quote), in order,
/// without repeats.
fn links(page: &str, marker: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for part in page.split(marker).skip(1) {
        if let Some(value) = part.split('"').next()
            && !value.is_empty()
            && !found.iter().any(|f| f == value)
        {
            found.push(value.to_owned());
        }
    }
    found
}

/// The first delivery slot of a checkout page that is not full (disabled), if it lists any.
pub fn first_open_slot(page: &str) -> Option<String> {
    let marker = "name=\"slot_id\" value=\"";
    page.match_indices(marker).find_map(|(at, _)| {
        let rest = &page[at + marker.len()..];
        let tag = rest.split('>').next()?;
        (!tag.contains("disabled")).then(|| rest.split('"').next().map(str::to_owned))?
    })
}

fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    page[start..].split('"').next().map(str::to_owned)
}

/// Where the audit looks.
#[derive(Debug, Default)]
pub struct Places {
    /// Each region's database URL.
    pub databases: BTreeMap<RegionId, String>,
    /// The edge key-value store (a Redis URL with its database).
    pub edge_store: Option<String>,
    /// Logs: a name and the text.
    pub logs: Vec<(String, String)>,
    /// Exported telemetry: a name and the raw bytes (OTLP protobuf payloads keep strings
    /// verbatim, so a byte search covers every field).
    pub telemetry: Vec<(String, Vec<u8>)>,
    /// Each region's mail receiver (a maildir): a shopper's e-mail must reach only their
    /// home region's.
    pub mailboxes: BTreeMap<RegionId, std::path::PathBuf>,
}

/// What the audit found: for each canary, the hit count per place.
#[derive(Debug)]
pub struct Report {
    pub rows: Vec<Row>,
    /// What was searched, one line a place (sizes), for the record.
    pub searched: Vec<String>,
}

#[derive(Debug)]
pub struct Row {
    pub canary: Canary,
    /// Place name → hits, for each of name, email and address.
    pub hits: BTreeMap<String, [u64; 3]>,
}

impl Row {
    fn home(&self) -> String {
        format!("database {}", self.canary.region)
    }

    /// The shopper's own inbox: mail their home region sent them.
    fn home_mail(&self) -> String {
        format!("mail {}", self.canary.region)
    }

    /// Found at home (every field), and nowhere else; an erasure canary nowhere at all. Mail
    /// the home region sent the shopper is theirs, in their inbox: it may hold them.
    pub fn passes(&self) -> bool {
        let elsewhere = |place: &String| {
            *place != self.home_mail() && (self.canary.erased || *place != self.home())
        };
        let clean = self
            .hits
            .iter()
            .filter(|(place, _)| elsewhere(place))
            .all(|(_, h)| h.iter().all(|n| *n == 0));
        if self.canary.erased {
            return !self.hits.is_empty() && clean;
        }
        clean
            && self
                .hits
                .get(&self.home())
                .is_some_and(|h| h.iter().all(|n| *n > 0))
    }
}

impl Report {
    pub fn passes(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(Row::passes)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Residency audit: canary personal data, searched everywhere"
        )?;
        writeln!(f, "Searched:")?;
        for line in &self.searched {
            writeln!(f, "  {line}")?;
        }
        for row in &self.rows {
            writeln!(
                f,
                "\n{} shopper from {}{} (canary email {}): {}",
                row.canary.region,
                row.canary.country,
                if row.canary.erased {
                    ", account erased"
                } else {
                    ""
                },
                row.canary.email,
                if row.passes() { "PASS" } else { "FAIL" }
            )?;
            writeln!(
                f,
                "  {:<40} {:>5} {:>5} {:>7}",
                "place", "name", "email", "address"
            )?;
            for (place, [name, email, address]) in &row.hits {
                let expected = if *place == row.home() && !row.canary.erased {
                    "  (home)"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "  {place:<40} {name:>5} {email:>5} {address:>7}{expected}"
                )?;
            }
        }
        let failed = self.rows.iter().filter(|r| !r.passes()).count();
        writeln!(
            f,
            "\n{}: {} canaries, {} found outside their home region's database, missing at home, or found after erasure",
            if self.passes() { "PASS" } else { "FAIL" },
            self.rows.len(),
            failed
        )
    }
}

/// Searches `places` for every canary.
pub async fn search(places: &Places, canaries: &[Canary]) -> anyhow::Result<Report> {
    let mut rows: Vec<Row> = canaries
        .iter()
        .map(|c| Row {
            canary: c.clone(),
            hits: BTreeMap::new(),
        })
        .collect();
    let mut searched = Vec::new();
    for (region, url) in &places.databases {
        let texts = database_texts(url)
            .await
            .with_context(|| format!("failed to search {region}'s database"))?;
        searched.push(format!(
            "database {region}: {} text values in every table",
            texts.len()
        ));
        count(&mut rows, &format!("database {region}"), |needle| {
            texts.iter().filter(|t| t.contains(needle)).count()
        });
    }
    if let Some(url) = &places.edge_store {
        let entries = edge_store_entries(url)
            .await
            .context("failed to search the edge key-value store")?;
        searched.push(format!("edge key-value store: {} keys", entries.len()));
        count(&mut rows, "edge key-value store", |needle| {
            entries
                .iter()
                .filter(|(k, v)| holds(k, needle) || holds(v, needle))
                .count()
        });
    }
    for (name, text) in &places.logs {
        searched.push(format!("log {name}: {} lines", text.lines().count()));
        count(&mut rows, &format!("log {name}"), |needle| {
            text.matches(needle).count()
        });
    }
    for (region, dir) in &places.mailboxes {
        let messages =
            maildir_messages(dir).with_context(|| format!("failed to read {}", dir.display()))?;
        searched.push(format!("mail {region}: {} messages", messages.len()));
        count(&mut rows, &format!("mail {region}"), |needle| {
            messages.iter().filter(|m| holds(m, needle)).count()
        });
    }
    for (name, bytes) in &places.telemetry {
        searched.push(format!(
            "telemetry {name}: {} bytes of OTLP payloads",
            bytes.len()
        ));
        count(&mut rows, &format!("telemetry {name}"), |needle| {
            let needle = needle.as_bytes();
            bytes.windows(needle.len()).filter(|w| *w == needle).count()
        });
    }
    Ok(Report { rows, searched })
}

/// Whether `bytes` hold `needle` anywhere.
pub fn holds(bytes: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle)
}

fn count(rows: &mut [Row], place: &str, hits: impl Fn(&str) -> usize) {
    for row in rows {
        let found = row
            .canary
            .needles()
            .map(|(_, needle)| u64::try_from(hits(needle)).unwrap_or(u64::MAX));
        row.hits.insert(place.to_owned(), found);
    }
}

/// Every value of every text, varchar and JSON column of every table, as text.
pub async fn database_texts(url: &str) -> anyhow::Result<Vec<String>> {
    let config: tokio_postgres::Config = url.parse().context("not a PostgreSQL URL")?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager).max_size(1).build()?;
    let client = pool.get().await?;
    let columns = client
        .query(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public'
               AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json')",
            &[],
        )
        .await?;
    let mut texts = Vec::new();
    for row in columns {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        let sql = format!(
            "SELECT \"{column}\"::text FROM \"{table}\" WHERE \"{column}\" IS NOT NULL",
            column = column.replace('"', "\"\""),
            table = table.replace('"', "\"\"")
        );
        for value in client.query(&sql, &[]).await? {
            texts.push(value.get::<_, String>(0));
        }
    }
    Ok(texts)
}

/// Every key with its value in the edge store's Redis database, as bytes.
pub async fn edge_store_entries(url: &str) -> anyhow::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let client = redis::Client::open(url)?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let mut entries = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await?;
        for key in keys {
            let value: Option<Vec<u8>> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .unwrap_or(None);
            entries.push((key, value.unwrap_or_default()));
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    Ok(entries)
}

/// Reads each file, naming it by its file name; a missing file is an error (a log the
/// audit was told to search must exist).
pub fn read_files(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    paths
        .iter()
        .map(|p| {
            let name = p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            std::fs::read(p)
                .with_context(|| format!("failed to read {}", p.display()))
                .map(|bytes| (name, bytes))
        })
        .collect()
}

/// Every message of a maildir (`new/` and `cur/`), raw, in no particular order; an absent
/// folder holds none.
pub fn maildir_messages(dir: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut messages = Vec::new();
    for sub in ["new", "cur"] {
        let folder = dir.join(sub);
        if !folder.exists() {
            continue;
        }
        for entry in std::fs::read_dir(folder)? {
            messages.push(std::fs::read(entry?.path())?);
        }
    }
    Ok(messages)
}

/// The account confirmation code in a raw message (its subject says it).
pub fn confirmation_code(message: &str) -> Option<String> {
    let start = message.find("Your confirmation code: ")? + "Your confirmation code: ".len();
    let code: String = message[start..].chars().take(9).collect();
    (code.len() == 9 && code.as_bytes()[4] == b'-').then_some(code)
}

/// `REGION=URL` (a database to search).
pub fn parse_database(value: &str) -> Result<(RegionId, String), String> {
    let (region, url) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not REGION=DATABASE_URL"))?;
    let region = region.parse().map_err(|e| format!("{region:?}: {e}"))?;
    Ok((region, url.to_owned()))
}

/// Runs the whole audit: checks out every canary, waits for the processes to write their
/// logs and spans, then searches.
pub async fn run(
    edge: &str,
    canaries: &[Canary],
    aisle: &str,
    places: impl AsyncFnOnce() -> anyhow::Result<Places>,
    mailboxes: &BTreeMap<RegionId, std::path::PathBuf>,
) -> anyhow::Result<Report> {
    for canary in canaries {
        if canary.erased {
            let mailbox = mailboxes.get(&canary.region).with_context(|| {
                format!("the erasure round needs {}'s mail receiver", canary.region)
            })?;
            sign_up_buy_and_erase(edge, canary, aisle, mailbox)
                .await
                .with_context(|| format!("the {} erasure canary's walk failed", canary.region))?;
        } else {
            check_out(edge, canary, aisle)
                .await
                .with_context(|| format!("the {} canary's checkout failed", canary.region))?;
        }
    }
    let mut places = places().await?;
    if places.mailboxes.is_empty() {
        places.mailboxes = mailboxes.clone();
    }
    if places.databases.is_empty() {
        return Err(anyhow!("no database to search"));
    }
    search(&places, canaries).await
}

/// A postal code of `country`'s shape (the shared input library's example).
pub(crate) fn postal_code_of(country: &str) -> String {
    shopper_input::Country::parse(country)
        .map(shopper_input::PostalCode::example)
        .unwrap_or_else(|_| "1000".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> RegionConfig {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../region-config/regions.toml");
        RegionConfig::from_path(&path).unwrap_or_else(|e| panic!("{}", e.render("regions.toml")))
    }

    #[test]
    fn one_canary_per_region_none_a_substring_of_another() {
        let regions = shipped();
        let canaries = canaries(&regions, "0123456789");
        assert_eq!(canaries.len(), 2 * regions.regions().len());
        for canary in &canaries {
            assert_eq!(regions.home_region(canary.country).id, canary.region);
        }
        for a in &canaries {
            for b in &canaries {
                for ((_, x), (_, y)) in a.needles().iter().zip(b.needles()) {
                    if a.region != b.region || a.erased != b.erased {
                        assert!(!y.contains(x), "{x} is inside {y}");
                    }
                }
            }
        }
    }

    fn row(hits: &[(&str, [u64; 3])]) -> Row {
        Row {
            canary: Canary::new("eu-west".parse().unwrap(), "DE".parse().unwrap(), "t"),
            hits: hits.iter().map(|(p, h)| ((*p).to_owned(), *h)).collect(),
        }
    }

    #[test]
    fn a_canary_passes_only_when_found_at_home_and_nowhere_else() {
        let home = ("database eu-west", [1, 1, 1]);
        assert!(row(&[home, ("database us-east", [0, 0, 0])]).passes());
        assert!(!row(&[home, ("log meridian-edge.log", [0, 1, 0])]).passes());
        assert!(
            !row(&[("database eu-west", [1, 0, 1])]).passes(),
            "every field at home"
        );
        assert!(
            !row(&[("database us-east", [0, 0, 0])]).passes(),
            "missing at home"
        );
        let mut erased = row(&[("database eu-west", [0, 0, 0]), ("log edge", [0, 0, 0])]);
        erased.canary.erased = true;
        assert!(erased.passes(), "an erasure canary passes found nowhere");
        erased.hits.insert("mail eu-west".into(), [1, 1, 0]);
        assert!(
            erased.passes(),
            "the shopper's own inbox keeps what it was sent"
        );
        erased.hits.insert("database eu-west".into(), [0, 1, 0]);
        assert!(!erased.passes(), "not even at home");
        let mut mailed = row(&[home, ("mail us-east", [0, 1, 0])]);
        assert!(!mailed.passes(), "another region mailed the shopper");
        mailed.hits.insert("mail us-east".into(), [0, 0, 0]);
        mailed.hits.insert("mail eu-west".into(), [1, 1, 0]);
        assert!(mailed.passes());
        assert!(
            !Report {
                rows: Vec::new(),
                searched: Vec::new()
            }
            .passes(),
            "no canary proves nothing"
        );
    }

    #[test]
    fn links_and_hidden_inputs_are_read_from_pages() {
        let page = r#"<a href="/p/BAK-1">x</a><a href="/p/BAK-2">y</a><a href="/p/BAK-1">z</a>
            <input type="hidden" name="csrf" value="abc123"/>"#;
        assert_eq!(links(page, "href=\"/p/"), ["BAK-1", "BAK-2"]);
        assert_eq!(hidden(page, "csrf").as_deref(), Some("abc123"));
        assert_eq!(hidden(page, "attempt"), None);
    }
}
