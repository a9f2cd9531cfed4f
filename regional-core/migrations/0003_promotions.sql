-- Promotions a merchant offers in this region: codes shoppers type at the edge. The relay
-- publishes them in the storefront's pricing rules; checkout applies them again with the
-- same pricing library. `promotion` is the library's Promotion as JSON (code, rule,
-- min_spend_minor, expires_at, stacks).
CREATE TABLE promotions (
    storefront text NOT NULL REFERENCES storefronts (id),
    code text NOT NULL,
    promotion jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (storefront, code)
);
