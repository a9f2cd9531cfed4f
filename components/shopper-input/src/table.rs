//! The checkout form's inputs that the storefront and the core are both tested against:
//! each row changes one field of a valid French shopper and says whether it must be
//! accepted. Both sides parse with this crate, and both tests run this table, so the form
//! and the API cannot drift apart.

/// A valid shopper in France, as the checkout form's fields.
pub const BASE: [(&str, &str); 8] = [
    ("name", "Camille Martin"),
    ("email", "camille@example.fr"),
    ("phone", ""),
    ("line1", "12 rue du Four"),
    ("line2", ""),
    ("city", "Lyon"),
    ("postal_code", "69001"),
    ("country", "FR"),
];

/// One field of [`BASE`] changed, and whether the result must be accepted.
#[derive(Debug, Clone)]
pub struct Row {
    pub field: &'static str,
    pub value: String,
    pub accepted: bool,
}

/// [`BASE`] with `row` applied.
pub fn shopper(row: &Row) -> Vec<(&'static str, String)> {
    BASE.iter()
        .map(|(k, v)| {
            let value = if *k == row.field {
                row.value.clone()
            } else {
                (*v).to_owned()
            };
            (*k, value)
        })
        .collect()
}

pub fn rows() -> Vec<Row> {
    let row = |field: &'static str, value: &str, accepted: bool| Row {
        field,
        value: value.to_owned(),
        accepted,
    };
    vec![
        row("name", "Camille Martin", true),
        row("name", "Zoë O'Brien-Łukasz", true),
        row("name", &"é".repeat(200), true),
        row("name", &"é".repeat(201), false),
        row("name", "", false),
        row("name", "   ", false),
        row("name", "Ada\u{0}Lovelace", false),
        row("name", "Ada\tLovelace", false),
        row("email", " camille@example.fr ", true),
        row("email", "a@b.co", true),
        row("email", "a@example", false),
        row("email", "a@example.", false),
        row("email", "a@.example.com", false),
        row("email", "a b@example.com", false),
        row("email", "x\u{0}@example.com", false),
        row("email", &format!("{}@example.com", "a".repeat(65)), false),
        row("phone", "", true),
        row("phone", "+33 6 12 34 56 78", true),
        row("phone", "12", false),
        row("phone", "06\u{0}12345678", false),
        row("phone", "call me", false),
        row("line1", &"a".repeat(200), true),
        row("line1", &"é".repeat(200), true),
        row("line1", &"a".repeat(201), false),
        row("line1", "", false),
        row("line1", "12 rue du Four\u{0}", false),
        row("line2", "Bâtiment B", true),
        row("line2", "x\u{7}", false),
        row("city", "Saint-Étienne", true),
        row("city", "", false),
        row("city", &"é".repeat(101), false),
        row("postal_code", " 69001 ", true),
        row("postal_code", "6900", false),
        row("postal_code", "690010", false),
        row("postal_code", "", false),
        row("postal_code", "69001\u{0}", false),
        row("country", "fr", true),
        row("country", "", false),
        row("country", "F", false),
        row("country", "F\u{0}", false),
    ]
}
