-- Shopper accounts, kept only in the home region's database, and the privacy log.

CREATE TABLE accounts (
    id               uuid PRIMARY KEY,
    -- An account belongs to one storefront (one merchant); another storefront never sees it.
    storefront       text NOT NULL REFERENCES storefronts (id),
    email            text NOT NULL,
    -- The e-mail address lower-cased: one account per address and storefront, whatever its case.
    email_key        text NOT NULL,
    name             text NOT NULL,
    country          text NOT NULL,
    -- Argon2id, PHC string (algorithm, parameters, salt and hash).
    password_hash    text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (storefront, email_key)
);
CREATE INDEX accounts_inactive ON accounts (last_sign_in_at);

CREATE TABLE account_addresses (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL,
    phone        text,
    line1        text NOT NULL,
    line2        text,
    city         text NOT NULL,
    postal_code  text NOT NULL,
    country      text NOT NULL,
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_addresses_account ON account_addresses (account_id);
CREATE UNIQUE INDEX account_addresses_one_default ON account_addresses (account_id) WHERE is_default;

-- What the shopper agreed to, and when (the privacy notice at sign-up; marketing e-mails).
CREATE TABLE account_consents (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('privacy_notice', 'marketing_emails')),
    granted     boolean NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, kind)
);

-- A session is a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_sha256  bytea PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The browser as it named itself (User-Agent, truncated), for the shopper's own list.
    client        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Sign-in attempts not (yet) known to have succeeded, per SHA-256 of an account key or a
-- client address; the limit counts them over a window.
CREATE TABLE sign_in_attempts (
    id          bigserial PRIMARY KEY,
    key_sha256  bytea NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_attempts_key ON sign_in_attempts (key_sha256, at);

ALTER TABLE orders ADD COLUMN account_id uuid REFERENCES accounts (id) ON DELETE SET NULL;
-- When the order's personal fields were anonymised (erasure or retention).
ALTER TABLE orders ADD COLUMN erased_at timestamptz;
CREATE INDEX orders_account ON orders (account_id, created_at DESC) WHERE account_id IS NOT NULL;
CREATE INDEX order_shoppers_email ON order_shoppers (lower(email));

-- Every export and erasure, append-only. No personal data: the kind, who asked, when,
-- and what changed in counts; an account's id only while it is an export's subject.
CREATE TABLE privacy_requests (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('export', 'erasure', 'retention')),
    subject       text NOT NULL CHECK (subject IN ('account', 'guest', 'policy')),
    requested_by  text NOT NULL,
    account_id    uuid,
    changes       jsonb NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION privacy_requests_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'privacy_requests is append-only';
END
$$;
CREATE TRIGGER privacy_requests_append_only BEFORE UPDATE OR DELETE ON privacy_requests
    FOR EACH ROW EXECUTE FUNCTION privacy_requests_append_only();
