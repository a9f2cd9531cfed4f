-- Refunds of an order, one row per merchant request (its Idempotency-Key). A refund is
-- reserved here (pending) under the order's row lock before the PSP is asked, so concurrent
-- refunds can never together exceed what was captured, and each has its own PSP key.
CREATE TABLE refunds (
    id               uuid PRIMARY KEY,
    order_id         uuid NOT NULL REFERENCES orders (id),
    idempotency_key  text NOT NULL,
    request_sha256   bytea NOT NULL,
    amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
    state            text NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    response_status  integer,
    response_body    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, idempotency_key)
);
CREATE INDEX refunds_pending ON refunds (updated_at) WHERE state = 'pending';
ALTER TABLE orders ADD CONSTRAINT refunded_within_total CHECK (refunded_minor <= total_minor);
