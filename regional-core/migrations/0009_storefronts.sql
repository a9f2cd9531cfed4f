-- Storefronts as data: a storefront's hosts and theme live here (per region, like its
-- catalogue), and the relay publishes them to the edge; products carry a checked picture.

-- The theme as the merchant put it (checked: `projections::theme::Theme`); NULL until then,
-- when the edge shows the plain default theme.
ALTER TABLE storefronts ADD COLUMN theme jsonb;
ALTER TABLE storefronts ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE storefronts ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- The hosts a storefront answers on: one storefront per host in the region.
CREATE TABLE storefront_hosts (
    host        text PRIMARY KEY CHECK (host ~ '^[a-z0-9.-]{1,253}$'),
    storefront  text NOT NULL REFERENCES storefronts (id),
    position    integer NOT NULL
);
CREATE INDEX storefront_hosts_storefront ON storefront_hosts (storefront, position);

-- A product's picture: URL, text alternative, intrinsic size, other widths
-- (`projections::theme::Image`). A bare URL from before keeps its title as its alternative
-- and a 4:3 size.
ALTER TABLE products ADD COLUMN image jsonb;
UPDATE products SET image = jsonb_build_object('url', image_url, 'alt', title, 'width', 320, 'height', 240)
    WHERE image_url IS NOT NULL;
ALTER TABLE products DROP COLUMN image_url;
