-- Meridian regional core, schema version 1. One database per region.

CREATE TABLE storefronts (
    id            text PRIMARY KEY,
    -- SHA-256 of the storefront's merchant API token; the token itself is never stored.
    token_sha256  bytea NOT NULL
);

CREATE TABLE products (
    sku           text PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    storefront    text NOT NULL REFERENCES storefronts (id),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '',
    category      text NOT NULL,
    tags          text[] NOT NULL DEFAULT '{}',
    image_url     text,
    unit          text NOT NULL,
    tax_category  text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE product_prices (
    sku           text NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor  bigint NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (sku, currency)
);

CREATE TABLE stock (
    sku        text NOT NULL REFERENCES products (sku),
    warehouse  text NOT NULL,
    on_hand    integer NOT NULL CHECK (on_hand >= 0),
    reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (sku, warehouse),
    -- Stock can never be over-reserved: reservations are conditional updates, and this backs them.
    CHECK (reserved <= on_hand)
);

CREATE TABLE stock_movements (
    id              bigserial PRIMARY KEY,
    sku             text NOT NULL,
    warehouse       text NOT NULL,
    on_hand_delta   integer NOT NULL,
    reserved_delta  integer NOT NULL,
    reason          text NOT NULL,
    order_id        uuid,
    at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id                   uuid PRIMARY KEY,
    storefront           text NOT NULL REFERENCES storefronts (id),
    status               text NOT NULL CHECK (status IN ('pending_payment', 'confirmed', 'fulfilled',
                             'cancelled', 'payment_declined', 'refunded', 'partially_refunded')),
    currency             text NOT NULL,
    subtotal_minor       bigint NOT NULL,
    tax_minor            bigint NOT NULL,
    discount_minor       bigint NOT NULL,
    total_minor          bigint NOT NULL,
    refunded_minor       bigint NOT NULL DEFAULT 0,
    access_token_sha256  bytea NOT NULL,
    payment_key          text NOT NULL,
    payment_token        text NOT NULL,
    payment_provider     text,
    payment_id           text,
    idempotency_key      text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'pending_payment';

CREATE TABLE order_lines (
    order_id          uuid NOT NULL REFERENCES orders (id),
    line_no           integer NOT NULL,
    sku               text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_minor  bigint NOT NULL,
    line_total_minor  bigint NOT NULL,
    tax_minor         bigint NOT NULL,
    tax_rate_bp       integer NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- Personal data, kept apart from the order so that it is easy to audit and erase.
CREATE TABLE order_shoppers (
    order_id  uuid PRIMARY KEY REFERENCES orders (id),
    email     text NOT NULL,
    name      text NOT NULL,
    phone     text,
    country   text NOT NULL,
    address   jsonb NOT NULL
);

CREATE TABLE reservations (
    id          bigserial PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders (id),
    sku         text NOT NULL,
    warehouse   text NOT NULL,
    quantity    integer NOT NULL CHECK (quantity > 0),
    expires_at  timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'released', 'sold'))
);

CREATE INDEX reservations_held ON reservations (expires_at) WHERE state = 'held';

CREATE TABLE order_transitions (
    id           bigserial PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (id),
    from_status  text,
    to_status    text NOT NULL,
    reason       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key              text PRIMARY KEY,
    request_sha256   bytea NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_flight', 'completed')),
    order_id         uuid,
    -- The order's access token until the response is stored (the response carries it, and a
    -- replay returns that response byte for byte).
    order_token      text,
    response_status  integer,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
