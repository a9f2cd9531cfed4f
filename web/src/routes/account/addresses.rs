//! Saved delivery addresses: list, add, edit, remove.

use super::*;

pub(super) fn address_values(a: &Value) -> Vec<(String, String)> {
    [
        "name",
        "phone",
        "line1",
        "line2",
        "city",
        "postal_code",
        "country",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), text(a, k)))
    .collect()
}

pub(super) fn address_form(form: &Form, action: String, button: &'static str) -> AnyView {
    let country = form.value("country");
    view! {
        <form class="address" method="post" action=action novalidate>
            <Csrf/>
            {text_field(form, "name", "Name", "text", "name", true)}
            {text_field(form, "phone", "Phone (optional)", "tel", "tel", false)}
            {text_field(form, "line1", "Address", "text", "address-line1", true)}
            {text_field(form, "line2", "Address line 2 (optional)", "text", "address-line2", false)}
            {text_field(form, "city", "City", "text", "address-level2", true)}
            {text_field(form, "postal_code", "Postal code", "text", "postal-code", true)}
            {country_field(form, "Country", country)}
            <div class="field">
                <input type="checkbox" id="default" name="default" value="yes"/>
                " "
                <label for="default">"Use for deliveries by default"</label>
            </div>
            <button type="submit">{button}</button>
        </form>
    }
    .into_any()
}

pub(super) fn addresses_page(ctx: &mut Ctx, mut form: Form, status: u16) -> Response {
    let list = match signed_in_call(ctx, "GET", "/v1/account/addresses", None) {
        Ok(a) if a.status == 200 => a.json,
        Ok(_) => return unreachable_page(ctx),
        Err(r) => return r,
    };
    if form.values.is_empty() {
        form.values.push(("country".into(), current_country(ctx)));
    }
    ctx.page(status, "Your addresses", "", move || {
        let items = list["addresses"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|a| {
                let id = text(&a, "id");
                let default = a["default"]
                    .as_bool()
                    .unwrap_or(false)
                    .then(|| view! { <strong>" (default)"</strong> });
                let line = [
                    text(&a, "name"),
                    text(&a, "line1"),
                    text(&a, "line2"),
                    text(&a, "postal_code"),
                    text(&a, "city"),
                    text(&a, "country"),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
                view! {
                    <li>
                        {line} {default} " "
                        <a href=format!("/account/addresses/{id}")>"Edit"</a>
                        <form method="post" action=format!("/account/addresses/{id}/remove")>
                            <Csrf/><button type="submit">"Remove"</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        view! {
            <h1>"Your addresses"</h1>
            <ul class="addresses">{items}</ul>
            <h2>"Add an address"</h2>
            {problem(&form)}
            {address_form(&form, "/account/addresses".into(), "Save address")}
            <p><a href="/account">"Back to your account"</a></p>
        }
        .into_any()
    })
}

pub(super) fn edit_address_page(ctx: &mut Ctx, id: &str) -> Response {
    let list = match signed_in_call(ctx, "GET", "/v1/account/addresses", None) {
        Ok(a) if a.status == 200 => a.json,
        Ok(_) => return unreachable_page(ctx),
        Err(r) => return r,
    };
    let Some(address) = list["addresses"]
        .as_array()
        .and_then(|l| l.iter().find(|a| a["id"] == id))
        .cloned()
    else {
        return ctx.not_found("this address");
    };
    let form = Form {
        values: address_values(&address),
        ..Form::default()
    };
    let id = id.to_owned();
    ctx.page(200, "Edit address", "", move || {
        view! {
            <h1>"Edit address"</h1>
            {address_form(&form, format!("/account/addresses/{id}"), "Save changes")}
            <p><a href="/account/addresses">"Back to your addresses"</a></p>
        }
        .into_any()
    })
}

pub(super) fn save_address(ctx: &mut Ctx, id: Option<&str>) -> Response {
    use shopper_input::address::AddressInput;
    use shopper_input::{PersonName, Phone, PostalAddress};
    let kept = values(
        ctx,
        &[
            "name",
            "phone",
            "line1",
            "line2",
            "city",
            "postal_code",
            "country",
        ],
    );
    let value = |n: &str| field(&kept, n).unwrap_or("").to_owned();
    let mut errors = errors_of(&[
        (
            "name",
            PersonName::parse(&value("name")).is_ok(),
            "Enter the name for deliveries.",
        ),
        (
            "phone",
            Phone::parse_optional(&value("phone")).is_ok(),
            "Enter a phone number with digits, spaces, + - ( ) only.",
        ),
    ]);
    if let Err((refused, _)) = PostalAddress::parse(AddressInput {
        line1: &value("line1"),
        line2: &value("line2"),
        city: &value("city"),
        postal_code: &value("postal_code"),
        country: &value("country"),
    }) {
        let message = match refused {
            "line1" => "Enter the street address.",
            "city" => "Enter the city.",
            "postal_code" => "Enter the postal code as written in that country.",
            "line2" => "Keep the second line under 200 characters.",
            _ => "Choose a country from the list.",
        };
        errors.push((refused.to_owned(), message.to_owned()));
    }
    let form = |errors, problem| refilled(&kept, errors, problem);
    if !errors.is_empty() {
        return addresses_page(ctx, form(errors, None), 422);
    }
    let optional = |n: &str| Some(value(n)).filter(|v| !v.trim().is_empty());
    let body = json!({
        "name": value("name"), "phone": optional("phone"), "line1": value("line1"), "line2": optional("line2"),
        "city": value("city"), "postal_code": value("postal_code"), "country": value("country"),
        "default": field(&ctx.request.form(), "default") == Some("yes"),
    });
    let (method, path) = match id {
        Some(id) if id.len() == 36 => ("PUT", format!("/v1/account/addresses/{id}")),
        Some(_) => return ctx.not_found("this address"),
        None => ("POST", "/v1/account/addresses".to_owned()),
    };
    match signed_in_call(ctx, method, &path, Some(&body)) {
        Ok(a) if matches!(a.status, 200 | 201) => {
            ctx.finish(Response::redirect("/account/addresses"))
        }
        Ok(a) if a.status == 404 => ctx.not_found("this address"),
        Ok(a) if a.status < 500 => {
            let (errors, problem) = refusal(&a);
            addresses_page(ctx, form(errors, problem), 422)
        }
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}

pub(super) fn remove_address(ctx: &mut Ctx, id: &str) -> Response {
    if id.len() != 36 {
        return ctx.not_found("this address");
    }
    match signed_in_call(ctx, "DELETE", &format!("/v1/account/addresses/{id}"), None) {
        Ok(a) if a.status == 204 => ctx.finish(Response::redirect("/account/addresses")),
        Ok(a) if a.status == 404 => ctx.not_found("this address"),
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}
