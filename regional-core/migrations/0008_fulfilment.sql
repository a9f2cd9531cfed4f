-- Fulfilment: picking with substitutions, capture of the picked total, and the delivery
-- states. Every transition names who made it.

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (
    'pending_payment', 'confirmed', 'picking', 'packed', 'out_for_delivery', 'delivered',
    'fulfilled', 'cancelled', 'payment_declined', 'refunded', 'partially_refunded'));

-- The promo codes the checkout applied: the picked order is priced again with them.
ALTER TABLE orders ADD COLUMN promo_codes text[] NOT NULL DEFAULT '{}';
-- What the PSP authorised (the total, plus the storefront's margin when substitutes are
-- allowed) and what it captured.
ALTER TABLE orders ADD COLUMN authorized_minor bigint;
ALTER TABLE orders ADD COLUMN captured_minor bigint;
-- The picked order's total, priced at packing before it is captured.
ALTER TABLE orders ADD COLUMN packed_minor bigint;
CREATE INDEX outgoing_mail_order ON outgoing_mail (order_id, kind);

-- The shopper's choice per line, and what the picker found.
ALTER TABLE order_lines ADD COLUMN substitute_allowed boolean NOT NULL DEFAULT false;
ALTER TABLE order_lines ADD COLUMN picked integer CHECK (picked >= 0 AND picked <= quantity);

-- A substitute for a line's missing units, as the picker recorded it.
CREATE TABLE order_substitutions (
    order_id          uuid NOT NULL REFERENCES orders (id),
    line_no           integer NOT NULL,
    sku               text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
);

-- The order as packed and charged, priced again with pricing-rules.
CREATE TABLE order_packed_lines (
    order_id          uuid NOT NULL REFERENCES orders (id),
    n                 integer NOT NULL,
    sku               text NOT NULL,
    quantity          integer NOT NULL,
    unit_price_minor  bigint NOT NULL,
    line_total_minor  bigint NOT NULL,
    tax_minor         bigint NOT NULL,
    tax_rate_bp       integer NOT NULL,
    -- The SKU this one stands in for, when it is a substitute.
    substitute_for    text,
    PRIMARY KEY (order_id, n)
);

-- Per storefront: whether lines allow substitutes unless the shopper says otherwise, and
-- the margin authorised above the total for them (basis points).
ALTER TABLE storefronts ADD COLUMN substitutes_by_default boolean NOT NULL DEFAULT false;
ALTER TABLE storefronts ADD COLUMN substitution_margin_bp integer NOT NULL DEFAULT 1000
    CHECK (substitution_margin_bp BETWEEN 0 AND 5000);

ALTER TABLE order_transitions ADD COLUMN actor text NOT NULL DEFAULT 'system';
