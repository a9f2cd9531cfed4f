-- Delivery slots: where each warehouse of a storefront delivers, its weekly slot template,
-- the slots materialised from it, and the holds on their capacity. Nothing here is personal:
-- a hold names an order or a hashed token, never a shopper.

CREATE TABLE delivery_zones (
    storefront       text NOT NULL REFERENCES storefronts (id),
    warehouse        text NOT NULL,
    country          text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    -- Empty: the whole country.
    postal_prefixes  text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (storefront, warehouse, country)
);

CREATE TABLE slot_templates (
    storefront    text NOT NULL REFERENCES storefronts (id),
    warehouse     text NOT NULL,
    -- IANA name: the windows are local times there.
    time_zone     text NOT NULL,
    days_ahead    integer NOT NULL CHECK (days_ahead BETWEEN 1 AND 60),
    -- How long a slot reserved before checkout stays held.
    hold_minutes  integer NOT NULL CHECK (hold_minutes BETWEEN 5 AND 1440),
    windows       jsonb NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (storefront, warehouse)
);

CREATE TABLE delivery_slots (
    id          uuid PRIMARY KEY,
    storefront  text NOT NULL REFERENCES storefronts (id),
    warehouse   text NOT NULL,
    time_zone   text NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    fee_minor   bigint NOT NULL CHECK (fee_minor >= 0),
    currency    text NOT NULL,
    capacity    integer NOT NULL CHECK (capacity >= 0),
    -- Units held or booked. Bookings are conditional updates; this backs them.
    booked      integer NOT NULL DEFAULT 0 CHECK (booked >= 0),
    closed      boolean NOT NULL DEFAULT false,
    CHECK (ends_at > starts_at),
    CHECK (booked <= capacity),
    UNIQUE (storefront, warehouse, starts_at)
);
CREATE INDEX delivery_slots_coming ON delivery_slots (storefront, starts_at);

CREATE TABLE slot_holds (
    id            uuid PRIMARY KEY,
    slot_id       uuid NOT NULL REFERENCES delivery_slots (id),
    -- A shopper's hold before checkout: SHA-256 of its token; NULL for a checkout's own.
    token_sha256  bytea UNIQUE,
    -- The order it belongs to, once there is one; an order's hold never expires by itself.
    order_id      uuid REFERENCES orders (id),
    state         text NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'released')),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slot_holds_expiring ON slot_holds (expires_at) WHERE state = 'held' AND order_id IS NULL;
CREATE UNIQUE INDEX slot_holds_of_order ON slot_holds (order_id) WHERE state = 'held';

ALTER TABLE orders ADD COLUMN slot_id uuid REFERENCES delivery_slots (id);
-- Included in total_minor.
ALTER TABLE orders ADD COLUMN delivery_fee_minor bigint NOT NULL DEFAULT 0 CHECK (delivery_fee_minor >= 0);
