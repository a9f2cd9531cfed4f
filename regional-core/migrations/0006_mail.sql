-- E-mail to shoppers, queued in the transaction that causes it (a transactional outbox) and
-- sent by the mail worker over SMTP from this region. The row's id is the message's
-- Message-ID, so a retry is the same message to the receiver. The address and the content
-- are cleared once the message is sent or given up: only the kind, the storefront and the
-- outcome stay, for the merchant.
CREATE TABLE outgoing_mail (
    id               uuid PRIMARY KEY,
    storefront       text NOT NULL,
    kind             text NOT NULL,
    -- The order it is about, if any (what the merchant sees of a failed message).
    order_id         uuid,
    to_address       text,
    subject          text,
    text_body        text,
    html_body        text,
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX outgoing_mail_due ON outgoing_mail (next_attempt_at) WHERE state = 'queued';
CREATE INDEX outgoing_mail_to ON outgoing_mail (lower(to_address)) WHERE to_address IS NOT NULL;
CREATE INDEX outgoing_mail_storefront ON outgoing_mail (storefront, created_at DESC);

-- An account is usable once its e-mail address is confirmed with the code mailed to it.
ALTER TABLE accounts ADD COLUMN confirmed_at timestamptz;
ALTER TABLE accounts ADD COLUMN confirmation_sha256 bytea;
ALTER TABLE accounts ADD COLUMN confirmation_expires_at timestamptz;
-- A password reset: a code mailed to the account's confirmed address, valid for an hour.
ALTER TABLE accounts ADD COLUMN reset_sha256 bytea;
ALTER TABLE accounts ADD COLUMN reset_expires_at timestamptz;
