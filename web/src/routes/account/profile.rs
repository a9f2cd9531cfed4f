//! The account page with its orders, one order, the shopper's details and password.

use super::*;

pub(super) fn account_page(ctx: &mut Ctx) -> Response {
    let page = match crate::app::page_number(ctx) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let account = match signed_in_call(ctx, "GET", "/v1/account", None) {
        Ok(a) if a.status == 200 => a.json,
        Ok(_) => return unreachable_page(ctx),
        Err(r) => return r,
    };
    let orders = match signed_in_call(ctx, "GET", &format!("/v1/account/orders?page={page}"), None)
    {
        Ok(a) if a.status == 200 => a.json,
        Ok(_) => return unreachable_page(ctx),
        Err(r) => return r,
    };
    let region = ctx.site.region;
    ctx.page(200, "Your account", "", move || {
        let rows = orders["orders"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let id = text(&o, "order_id");
                let total = site::format_money(o["total_minor"].as_i64().unwrap_or(0), &text(&o, "currency"));
                view! {
                    <tr>
                        <td>{date(&o, "created_at")}</td>
                        <td><a href=format!("/account/orders/{id}")>{format!("Order {}", &id[..8.min(id.len())])}</a></td>
                        <td data-status=text(&o, "status")>{text(&o, "status").replace('_', " ")}</td>
                        <td>{total}</td>
                    </tr>
                }
            })
            .collect_view();
        let total = orders["total"].as_i64().unwrap_or(0);
        let per_page = orders["per_page"].as_i64().unwrap_or(20).max(1);
        let pages = u32::try_from((total + per_page - 1) / per_page).unwrap_or(1);
        let list = if total == 0 {
            view! { <p>"No orders yet."</p> }.into_any()
        } else {
            view! {
                <table class="orders">
                    <thead><tr><th>"Date"</th><th>"Order"</th><th>"Status"</th><th>"Total"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {crate::routes::pagination("/account", page, pages)}
            }
            .into_any()
        };
        view! {
            <h1>"Your account"</h1>
            <p>{format!("{} · {}", text(&account, "name"), text(&account, "email"))}</p>
            <p>{format!("Your account and orders are kept in our {} region.", region.name)}</p>
            <nav aria-label="Your account">
                <a href="/account/details">"Your details"</a> " · " <a href="/account/password">"Password"</a> " · "
                <a href="/account/addresses">"Addresses"</a> " · " <a href="/account/privacy">"Privacy and your data"</a>
            </nav>
            <h2>"Orders"</h2>
            {list}
            <form method="post" action="/account/sign-out"><Csrf/><button type="submit">"Sign out"</button></form>
            <form method="post" action="/account/sign-out-everywhere"><Csrf/><button type="submit">"Sign out everywhere"</button></form>
        }
        .into_any()
    })
}

/// The details form, prefilled from the account unless `form` is given back with errors.
pub(super) fn details_page(ctx: &mut Ctx, form: Option<Form>, status: u16) -> Response {
    let form = match form {
        Some(f) => f,
        None => match signed_in_call(ctx, "GET", "/v1/account", None) {
            Ok(a) if a.status == 200 => Form {
                values: vec![
                    ("name".into(), text(&a.json, "name")),
                    ("email".into(), text(&a.json, "email")),
                ],
                ..Form::default()
            },
            Ok(_) => return unreachable_page(ctx),
            Err(r) => return r,
        },
    };
    if ctx.session.is_none() {
        return ctx.finish(Response::redirect("/account/sign-in"));
    }
    ctx.page(status, "Your details", "", move || {
        view! {
            <h1>"Your details"</h1>
            {problem(&form)}
            <form class="details" method="post" action="/account/details" novalidate>
                <Csrf/>
                {text_field(&form, "name", "Full name", "text", "name", true)}
                {text_field(&form, "email", "Email", "email", "email", true)}
                {password_field(&form, "current_password", "Your password (needed to change the e-mail address)", "current-password")}
                <button type="submit">"Save"</button>
            </form>
            <p><a href="/account">"Back to your account"</a></p>
        }
        .into_any()
    })
}

pub(super) fn save_details(ctx: &mut Ctx) -> Response {
    let all = ctx.request.form();
    let kept = values(ctx, &["name", "email"]);
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let form = |errors, problem| refilled(&kept, errors, problem);
    let errors = errors_of(&contact_checks(&value("name"), &value("email")));
    if !errors.is_empty() {
        return details_page(ctx, Some(form(errors, None)), 422);
    }
    let current = match signed_in_call(ctx, "GET", "/v1/account", None) {
        Ok(a) if a.status == 200 => text(&a.json, "email"),
        Ok(_) => return unreachable_page(ctx),
        Err(r) => return r,
    };
    let mut body = json!({"name": value("name")});
    if value("email").trim() != current {
        body["email"] = value("email").into();
        body["current_password"] = value("current_password").into();
    }
    match signed_in_call(ctx, "PATCH", "/v1/account", Some(&body)) {
        Ok(a) if a.status == 200 => ctx.finish(Response::redirect("/account")),
        Ok(a) if a.status == 403 => details_page(
            ctx,
            Some(form(
                vec![("current_password".into(), "The password is wrong.".into())],
                None,
            )),
            403,
        ),
        Ok(a) if a.status == 409 => details_page(
            ctx,
            Some(form(
                vec![(
                    "email".into(),
                    "Another account uses this e-mail address.".into(),
                )],
                None,
            )),
            409,
        ),
        Ok(a) if a.status < 500 => {
            let (errors, problem) = refusal(&a);
            details_page(ctx, Some(form(errors, problem)), 422)
        }
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}

pub(super) fn password_page(ctx: &mut Ctx, form: Form, status: u16) -> Response {
    if ctx.session.is_none() {
        return ctx.finish(Response::redirect("/account/sign-in"));
    }
    ctx.page(status, "Your password", "", move || {
        view! {
            <h1>"Change your password"</h1>
            <p>"Every other device you are signed in on is signed out."</p>
            {problem(&form)}
            <form class="password" method="post" action="/account/password" novalidate>
                <Csrf/>
                {password_field(&form, "current_password", "Current password", "current-password")}
                {password_field(&form, "new_password", "New password (at least 10 characters)", "new-password")}
                <button type="submit">"Change password"</button>
            </form>
            <p><a href="/account">"Back to your account"</a></p>
        }
        .into_any()
    })
}

pub(super) fn change_password(ctx: &mut Ctx) -> Response {
    let all = ctx.request.form();
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let errors = errors_of(&[
        (
            "current_password",
            !value("current_password").is_empty(),
            "Enter your current password.",
        ),
        (
            "new_password",
            shopper_input::Password::parse(&value("new_password")).is_ok(),
            "Use at least 10 characters (at most 128).",
        ),
    ]);
    if !errors.is_empty() {
        return password_page(
            ctx,
            Form {
                errors,
                ..Form::default()
            },
            422,
        );
    }
    let body = json!({"current_password": value("current_password"), "new_password": value("new_password")});
    match signed_in_call(ctx, "PUT", "/v1/account/password", Some(&body)) {
        Ok(a) if a.status == 204 => ctx.finish(Response::redirect("/account")),
        Ok(a) if a.status < 500 => {
            let (mut errors, problem) = refusal(&a);
            if a.code() == "wrong_password" {
                errors = vec![("current_password".into(), "The password is wrong.".into())];
            }
            password_page(
                ctx,
                Form {
                    errors,
                    problem,
                    ..Form::default()
                },
                a.status.max(400),
            )
        }
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}

pub(super) fn order_page(ctx: &mut Ctx, id: &str) -> Response {
    let id_ok = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !id_ok {
        return ctx.not_found("this order");
    }
    let order = match signed_in_call(ctx, "GET", &format!("/v1/account/orders/{id}"), None) {
        Ok(a) if a.status == 200 => a.json,
        Ok(a) if a.status == 404 => return ctx.not_found("this order"),
        Ok(_) => return unreachable_page(ctx),
        Err(r) => return r,
    };
    let view = crate::routes::order::from_json(id, &order);
    ctx.page(200, "Your order", "", move || {
        crate::routes::order::view(view)
    })
}
