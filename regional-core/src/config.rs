//! Configuration of a core: flags and environment, parsed once at start.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use region_config::RegionId;

/// A value that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// A storefront's merchant API token, given as `STOREFRONT=TOKEN`.
#[derive(Clone, Debug)]
pub struct MerchantToken {
    pub storefront: String,
    pub token: Secret,
}

impl std::str::FromStr for MerchantToken {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (storefront, token) = s
            .split_once('=')
            .ok_or("expected STOREFRONT=TOKEN".to_owned())?;
        let valid_id = !storefront.is_empty()
            && storefront
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_id {
            return Err(format!("storefront id {storefront:?} must be [a-z0-9-]+"));
        }
        if token.len() < 16 {
            return Err("a merchant token has at least 16 characters".to_owned());
        }
        Ok(Self {
            storefront: storefront.to_owned(),
            token: Secret::new(token),
        })
    }
}

/// A storefront's own sender of shoppers' e-mail: `STOREFRONT=NAME <ADDRESS>`.
#[derive(Debug, Clone)]
pub struct MailSender {
    pub storefront: String,
    pub mailbox: String,
}

impl std::str::FromStr for MailSender {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (storefront, mailbox) = s
            .split_once('=')
            .ok_or("expected STOREFRONT=NAME <ADDRESS>".to_owned())?;
        let mailbox = mailbox.trim();
        mailbox
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("{mailbox:?} is not a mailbox: {e}"))?;
        Ok(Self {
            storefront: storefront.trim().to_owned(),
            mailbox: mailbox.to_owned(),
        })
    }
}

/// Everything `regional-core serve` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// The region this core serves, as in the region config.
    #[arg(long, env = "MERIDIAN_REGION")]
    pub region: RegionId,
    /// The region config file.
    #[arg(long, env = "MERIDIAN_REGION_CONFIG", default_value = region_config::DEFAULT_PATH)]
    pub region_config: PathBuf,
    /// PostgreSQL URL of this region's database.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Secret,
    /// Address to listen on.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:7101")]
    pub listen: SocketAddr,
    /// Base URLs of the payment providers, in failover order.
    #[arg(
        long = "psp-url",
        env = "MERIDIAN_PSP_URLS",
        value_delimiter = ',',
        required = true
    )]
    pub psp_urls: Vec<String>,
    /// Merchant API tokens, `STOREFRONT=TOKEN`, comma separated.
    #[arg(
        long = "merchant-token",
        env = "MERIDIAN_MERCHANT_TOKENS",
        value_delimiter = ','
    )]
    pub merchant_tokens: Vec<MerchantToken>,
    /// The operator's token: it creates storefronts (`POST /v1/operator/storefronts`); no
    /// storefront can be created over the API without it.
    #[arg(long, env = "MERIDIAN_OPERATOR_TOKEN")]
    pub operator_token: Option<Secret>,
    /// Redis URL of the edge key-value store the outbox relay publishes to; no relay if unset.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<Secret>,
    /// This region's quote signing key, shared with the edge pricing component (its
    /// `quote_signing_key_<region>` variable). With it, a checkout that carries the quote the
    /// shopper saw is refused when the price changed; without it, quotes are not checked.
    #[arg(long, env = "MERIDIAN_QUOTE_SIGNING_KEY")]
    pub quote_signing_key: Option<Secret>,
    /// How long a reservation holds stock before the sweeper releases it, in seconds.
    #[arg(long, env = "MERIDIAN_RESERVATION_TTL_SECS", default_value_t = 900)]
    pub reservation_ttl_secs: u64,
    /// The SMTP relay shoppers' e-mail leaves through (`smtp://host:port`,
    /// `smtps://user:password@host:port`); without one, e-mail stays queued.
    #[arg(long, env = "MERIDIAN_SMTP_URL")]
    pub smtp_url: Option<Secret>,
    /// The sender of shoppers' e-mail.
    #[arg(
        long,
        env = "MERIDIAN_MAIL_FROM",
        default_value = "Meridian <no-reply@meridian.invalid>"
    )]
    pub mail_from: String,
    /// Storefronts' own senders, `STOREFRONT=NAME <ADDRESS>`, separated by `;`; others send
    /// under their theme's name at `--mail-from`'s address.
    #[arg(
        long = "mail-sender",
        env = "MERIDIAN_MAIL_SENDERS",
        value_delimiter = ';'
    )]
    pub mail_senders: Vec<MailSender>,
    /// Database pool size.
    #[arg(long, env = "MERIDIAN_DB_POOL", default_value_t = 32)]
    pub db_pool_size: usize,
    /// Export traces and metrics over OTLP/HTTP to this collector (e.g.
    /// `http://127.0.0.1:4318`); off when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

impl Config {
    pub fn reservation_ttl(&self) -> Duration {
        Duration::from_secs(self.reservation_ttl_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("postgres://u:hunter2@db/x");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        let token: MerchantToken = "grocer=abcdefghijklmnopqrstuvwxyz".parse().unwrap();
        assert!(!format!("{token:?}").contains("abcdef"));
    }

    #[test]
    fn a_merchant_token_needs_a_storefront_and_sixteen_characters() {
        assert!("grocer=short".parse::<MerchantToken>().is_err());
        assert!("nostorefront".parse::<MerchantToken>().is_err());
        assert!(
            "Grocer=abcdefghijklmnopqrstuvwxyz"
                .parse::<MerchantToken>()
                .is_err()
        );
    }
}
