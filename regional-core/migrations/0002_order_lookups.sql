-- Lookups by order id on the checkout, recovery and order-status paths; without these each
-- was a sequential scan that grew with the number of orders.
CREATE INDEX idempotency_keys_order ON idempotency_keys (order_id);
CREATE INDEX reservations_order ON reservations (order_id);
CREATE INDEX order_transitions_order ON order_transitions (order_id);
