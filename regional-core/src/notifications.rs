//! What shoppers are told by e-mail about their orders: confirmed, cancelled, refunded.
//! Each message is queued ([`order_moved`]) in the transaction that moves the order, so a
//! shopper hears of exactly the transitions that committed, once each; queuing is one
//! statement without content, and the mail worker writes the message ([`compose`]) when it
//! sends, keeping its id through retries. Erased orders have no address left and are not
//! mailed. Amounts are written with the currency's own number of decimals (`4.280 KWD`).

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::db::Cached;
use crate::error::ApiError;
use crate::mail::{Mail, escape};
use crate::orders::Status;

/// `minor` units of `currency` for people: `2.14 EUR`, `1500 JPY`, `4.280 KWD`.
pub fn money(minor: i64, currency: &str) -> String {
    let exponent = currency
        .parse::<region_config::Currency>()
        .map_or(2, |c| u32::from(c.exponent()));
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude} {currency}");
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$} {currency}",
        magnitude / scale,
        magnitude % scale,
        width = exponent as usize
    )
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum About {
    /// The order moved to this status.
    Status(Status),
    /// Picking found missing lines or made substitutes (sent before the capture).
    Changes,
    /// The delivery slot is within a day.
    Reminder,
}

/// The message about `about` for the order's shopper, if shoppers hear of it.
fn message(about: About, order: &OrderFacts) -> Option<Mail> {
    let short = &order.id.simple().to_string()[..8];
    let total = money(order.total_minor, &order.currency);
    let slot = order
        .slot
        .clone()
        .unwrap_or_else(|| "your delivery slot".to_owned());
    let status = match about {
        About::Status(status) => status,
        About::Changes => {
            return Some(changes(order, short));
        }
        About::Reminder => Status::Confirmed,
    };
    let (kind, subject, said) = match (about, status) {
        (About::Reminder, _) => (
            "slot_reminder",
            format!("Your delivery is on its way soon: {slot}"),
            format!("A reminder: your order {short} will be delivered on {slot}."),
        ),
        (_, Status::OutForDelivery) => (
            "order_out_for_delivery",
            format!("Your order {short} is out for delivery"),
            format!("Your order {short} has left the warehouse and is on its way ({slot})."),
        ),
        (_, Status::Delivered) => (
            "order_delivered",
            format!("Your order {short} was delivered"),
            format!("Your order {short} was delivered. Enjoy it!"),
        ),
        (_, Status::Confirmed) => (
            "order_confirmed",
            format!("Your order {short} is confirmed"),
            match &order.slot {
                Some(slot) => {
                    format!("Thank you: we have your order {short} and will deliver it on {slot}.")
                }
                None => format!("Thank you: we have your order {short} and are preparing it."),
            },
        ),
        (_, Status::Cancelled) => (
            "order_cancelled",
            format!("Your order {short} was cancelled"),
            format!(
                "Your order {short} was cancelled. Any payment held for it is released; nothing was taken."
            ),
        ),
        (_, Status::Refunded | Status::PartiallyRefunded) => (
            "order_refunded",
            format!("A refund for your order {short}"),
            format!(
                "We refunded {} of your order {short} to your payment method (refunded so far).",
                money(order.refunded_minor, &order.currency)
            ),
        ),
        _ => return None,
    };
    let mut text_lines: String = order
        .lines
        .iter()
        .map(|(sku, quantity, line_total)| {
            format!(
                "{quantity} x {sku}  {}\n",
                money(*line_total, &order.currency)
            )
        })
        .collect();
    let mut html_lines: String = order
        .lines
        .iter()
        .map(|(sku, quantity, line_total)| {
            format!(
                "<tr><td>{quantity} &times; {}</td><td>{}</td></tr>",
                escape(sku),
                money(*line_total, &order.currency)
            )
        })
        .collect();
    if order.slot.is_some() {
        let fee = money(order.delivery_fee_minor, &order.currency);
        text_lines.push_str(&format!("Delivery  {fee}\n"));
        html_lines.push_str(&format!("<tr><td>Delivery</td><td>{fee}</td></tr>"));
    }
    Some(Mail {
        storefront: order.storefront.clone(),
        kind,
        order_id: Some(order.id),
        to: order.email.clone(),
        subject: format!("{subject}: {total}"),
        text: format!(
            "Hello {},\n\n{said}\n\n{text_lines}\nTotal: {total}\n",
            order.name
        ),
        html: format!(
            "<p>Hello {},</p><p>{}</p><table>{html_lines}</table><p><strong>Total: {total}</strong></p>",
            escape(&order.name),
            escape(&said)
        ),
    })
}

struct OrderFacts {
    id: Uuid,
    storefront: String,
    currency: String,
    total_minor: i64,
    refunded_minor: i64,
    email: String,
    name: String,
    /// (SKU, quantity, line total)
    lines: Vec<(String, i32, i64)>,
    /// The delivery slot as the shopper reads it, e.g. `2026-12-08 08:00–10:00`.
    slot: Option<String>,
    delivery_fee_minor: i64,
    /// What picking changed, line by line.
    picking: Vec<Picked>,
}

/// One line picking changed: (ordered SKU, ordered, picked, substitute SKU and quantity).
type Picked = (String, i32, i32, Option<(String, i32)>);

/// The message about missing lines and substitutes, with the amount that will be charged.
fn changes(order: &OrderFacts, short: &str) -> Mail {
    let total = money(order.total_minor, &order.currency);
    let mut text = String::new();
    let mut html = String::new();
    for (sku, ordered, picked, substitute) in &order.picking {
        let line = match substitute {
            Some((sub, q)) if *picked == 0 => {
                format!("{sku}: not available; {q} x {sub} instead")
            }
            Some((sub, q)) => {
                format!("{sku}: {picked} of {ordered} found; {q} x {sub} for the rest")
            }
            None if *picked == 0 => format!("{sku}: not available, not charged"),
            None => format!("{sku}: {picked} of {ordered} found; the rest not charged"),
        };
        text.push_str(&format!("{line}\n"));
        html.push_str(&format!("<li>{}</li>", escape(&line)));
    }
    let said = format!(
        "We picked your order {short}. Some items were not available; here is what changed. You will be charged {total}."
    );
    Mail {
        storefront: order.storefront.clone(),
        kind: "order_changed",
        order_id: Some(order.id),
        to: order.email.clone(),
        subject: format!("Changes to your order {short}: {total}"),
        text: format!(
            "Hello {},\n\n{said}\n\n{text}\nTotal: {total}\n",
            order.name
        ),
        html: format!(
            "<p>Hello {},</p><p>{}</p><ul>{html}</ul><p><strong>Total: {total}</strong></p>",
            escape(&order.name),
            escape(&said)
        ),
    }
}

/// The kind of message shoppers get for an order now in `status`, if any.
pub fn kind_for(status: Status) -> Option<&'static str> {
    match status {
        Status::Confirmed => Some("order_confirmed"),
        Status::Cancelled => Some("order_cancelled"),
        Status::Refunded | Status::PartiallyRefunded => Some("order_refunded"),
        Status::OutForDelivery => Some("order_out_for_delivery"),
        Status::Delivered => Some("order_delivered"),
        _ => None,
    }
}

/// Queues the shopper's message for `order_id` having moved to `status`, in `client`'s
/// transaction (one statement, no content yet: the mail worker writes it when it sends, from
/// the order as it then is); nothing for a status shoppers are not told of.
pub async fn order_moved(
    client: &impl GenericClient,
    order_id: Uuid,
    status: Status,
) -> Result<(), ApiError> {
    let Some(kind) = kind_for(status) else {
        return Ok(());
    };
    client
        .execute_cached(
            "INSERT INTO outgoing_mail (id, storefront, kind, order_id)
             SELECT gen_random_uuid(), storefront, $2, id FROM orders WHERE id = $1",
            &[&order_id, &kind],
        )
        .await?;
    Ok(())
}

/// The message of `kind` about `order_id`, written from the order as it is now; `None` when
/// the order's details were erased (there is no one to write to) or it is gone.
pub async fn compose(
    client: &impl GenericClient,
    order_id: Uuid,
    kind: &str,
) -> Result<Option<Mail>, ApiError> {
    let about = match kind {
        "order_confirmed" => About::Status(Status::Confirmed),
        "order_cancelled" => About::Status(Status::Cancelled),
        "order_refunded" => About::Status(Status::Refunded),
        "order_out_for_delivery" => About::Status(Status::OutForDelivery),
        "order_delivered" => About::Status(Status::Delivered),
        "order_changed" => About::Changes,
        "slot_reminder" => About::Reminder,
        _ => return Ok(None),
    };
    // One round trip: the order, its shopper and its lines.
    let Some(row) = client
        .query_opt_cached(
            "SELECT o.storefront, o.currency, o.total_minor, o.refunded_minor, s.email, s.name,
                    array_agg(l.sku ORDER BY l.line_no), array_agg(l.quantity ORDER BY l.line_no),
                    array_agg(l.line_total_minor ORDER BY l.line_no),
                    o.delivery_fee_minor,
                    to_char(d.starts_at AT TIME ZONE d.time_zone, 'YYYY-MM-DD HH24:MI')
                        || '–' || to_char(d.ends_at AT TIME ZONE d.time_zone, 'HH24:MI')
             FROM orders o
             JOIN order_shoppers s ON s.order_id = o.id
             JOIN order_lines l ON l.order_id = o.id
             LEFT JOIN delivery_slots d ON d.id = o.slot_id
             WHERE o.id = $1 AND o.erased_at IS NULL
             GROUP BY o.id, s.order_id, d.id",
            &[&order_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let (skus, quantities, totals): (Vec<String>, Vec<i32>, Vec<i64>) =
        (row.get(6), row.get(7), row.get(8));
    let lines = skus
        .into_iter()
        .zip(quantities)
        .zip(totals)
        .map(|((sku, quantity), total)| (sku, quantity, total))
        .collect();
    let order = OrderFacts {
        id: order_id,
        storefront: row.get(0),
        currency: row.get(1),
        total_minor: row.get(2),
        refunded_minor: row.get(3),
        email: row.get(4),
        name: row.get(5),
        lines,
        delivery_fee_minor: row.get(9),
        slot: row.get(10),
        picking: Vec::new(),
    };
    let mut order = order;
    if about == About::Changes {
        order.picking = client
            .query_cached(
                "SELECT l.sku, l.quantity, coalesce(l.picked, l.quantity), s.sku, s.quantity
                 FROM order_lines l
                 LEFT JOIN order_substitutions s
                        ON s.order_id = l.order_id AND s.line_no = l.line_no
                 WHERE l.order_id = $1 AND (l.picked < l.quantity OR s.sku IS NOT NULL)
                 ORDER BY l.line_no",
                &[&order_id],
            )
            .await?
            .iter()
            .map(|r| {
                let substitute = r
                    .get::<_, Option<String>>(3)
                    .map(|sku| (sku, r.get::<_, i32>(4)));
                (r.get(0), r.get(1), r.get(2), substitute)
            })
            .collect();
        // The amount to be charged: the packed order's, which packing priced.
        let packed: Option<i64> = client
            .query_one_cached(
                "SELECT packed_minor FROM orders WHERE id = $1",
                &[&order_id],
            )
            .await?
            .get(0);
        if let Some(total) = packed {
            order.total_minor = total;
        }
    }
    Ok(message(about, &order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_their_currencys_decimals() {
        assert_eq!(money(214, "EUR"), "2.14 EUR");
        assert_eq!(money(4280, "KWD"), "4.280 KWD");
        assert_eq!(money(1500, "JPY"), "1500 JPY");
        assert_eq!(money(-5, "USD"), "-0.05 USD");
    }
}
