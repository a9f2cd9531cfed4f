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

/// The message for an order now in `status` to its shopper, if shoppers hear of that status.
fn message(status: Status, order: &OrderFacts) -> Option<Mail> {
    let short = &order.id.simple().to_string()[..8];
    let total = money(order.total_minor, &order.currency);
    let (kind, subject, said) = match status {
        Status::Confirmed => (
            "order_confirmed",
            format!("Your order {short} is confirmed"),
            format!("Thank you: we have your order {short} and are preparing it."),
        ),
        Status::Cancelled => (
            "order_cancelled",
            format!("Your order {short} was cancelled"),
            format!(
                "Your order {short} was cancelled. Any payment held for it is released; nothing was taken."
            ),
        ),
        Status::Refunded | Status::PartiallyRefunded => (
            "order_refunded",
            format!("A refund for your order {short}"),
            format!(
                "We refunded {} of your order {short} to your payment method (refunded so far).",
                money(order.refunded_minor, &order.currency)
            ),
        ),
        _ => return None,
    };
    let text_lines: String = order
        .lines
        .iter()
        .map(|(sku, quantity, line_total)| {
            format!(
                "{quantity} x {sku}  {}\n",
                money(*line_total, &order.currency)
            )
        })
        .collect();
    let html_lines: String = order
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
}

/// The kind of message shoppers get for an order now in `status`, if any.
pub fn kind_for(status: Status) -> Option<&'static str> {
    match status {
        Status::Confirmed => Some("order_confirmed"),
        Status::Cancelled => Some("order_cancelled"),
        Status::Refunded | Status::PartiallyRefunded => Some("order_refunded"),
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
    let status = match kind {
        "order_confirmed" => Status::Confirmed,
        "order_cancelled" => Status::Cancelled,
        "order_refunded" => Status::Refunded,
        _ => return Ok(None),
    };
    // One round trip: the order, its shopper and its lines.
    let Some(row) = client
        .query_opt_cached(
            "SELECT o.storefront, o.currency, o.total_minor, o.refunded_minor, s.email, s.name,
                    array_agg(l.sku ORDER BY l.line_no), array_agg(l.quantity ORDER BY l.line_no),
                    array_agg(l.line_total_minor ORDER BY l.line_no)
             FROM orders o
             JOIN order_shoppers s ON s.order_id = o.id
             JOIN order_lines l ON l.order_id = o.id
             WHERE o.id = $1 AND o.erased_at IS NULL
             GROUP BY o.id, s.order_id",
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
    };
    Ok(message(status, &order))
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
