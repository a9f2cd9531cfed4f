//! Privacy and the shopper's data: where it is kept, the download, erasure.

use super::*;

pub(super) fn privacy_page(ctx: &mut Ctx, form: Form, status: u16) -> Response {
    if ctx.session.is_none() {
        return ctx.finish(Response::redirect("/account/sign-in"));
    }
    let region = ctx.site.region;
    ctx.page(status, "Privacy and your data", "", move || {
        let regulation = region
            .pinned
            .as_ref()
            .map_or_else(String::new, |r| format!(" under {r}"));
        view! {
            <h1>"Privacy and your data"</h1>
            <p>{format!("Your account, addresses and orders are kept only in our {} region{regulation}.", region.name)}</p>
            <h2>"Download your data"</h2>
            <p>"A file (JSON) with everything we hold about you: your account, addresses, consents, sessions, orders and payments (never card numbers)."</p>
            <p><a href="/account/export" download="meridian-export.json">"Download your data"</a></p>
            <h2>"Erase your account"</h2>
            <p>"Your account, addresses and sessions are deleted, and your name, e-mail, phone and street are removed from your orders. The amounts stay in our accounts, as the law requires. This cannot be undone."</p>
            {problem(&form)}
            <form class="erase" method="post" action="/account/erase" novalidate>
                <Csrf/>
                {password_field(&form, "password", "Your password, to confirm", "current-password")}
                <button type="submit">"Erase my account"</button>
            </form>
        }
        .into_any()
    })
}

pub(super) fn export(ctx: &mut Ctx) -> Response {
    match signed_in_call(ctx, "GET", "/v1/account/export", None) {
        Ok(a) if a.status == 200 => ctx.finish(Response {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "content-disposition".into(),
                    "attachment; filename=\"meridian-export.json\"".into(),
                ),
                ("cache-control".into(), "no-store".into()),
            ],
            body: serde_json::to_vec_pretty(&a.json).unwrap_or_default(),
        }),
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}

pub(super) fn erase(ctx: &mut Ctx) -> Response {
    let password = field(&ctx.request.form(), "password")
        .unwrap_or("")
        .to_owned();
    if password.is_empty() {
        let form = Form {
            errors: vec![("password".into(), "Enter your password to confirm.".into())],
            ..Form::default()
        };
        return privacy_page(ctx, form, 422);
    }
    match signed_in_call(
        ctx,
        "POST",
        "/v1/account/erasure",
        Some(&json!({"password": password})),
    ) {
        Ok(a) if a.status == 200 => {
            ctx.set(SESSION_COOKIE, "", 0);
            ctx.site.signed_in = false;
            let orders = a.json["orders"].as_i64().unwrap_or(0);
            ctx.page(200, "Account erased", "", move || {
                view! {
                    <h1>"Your account was erased"</h1>
                    <p>{format!("Your account, addresses and sessions are deleted; your details were removed from {orders} order(s).")}</p>
                    <p><a href="/">"Back to the shop"</a></p>
                }
                .into_any()
            })
        }
        Ok(a) if matches!(a.status, 403 | 422 | 429) => {
            let (mut errors, problem) = refusal(&a);
            if a.code() == "wrong_password" {
                errors = vec![("password".into(), "The password is wrong.".into())];
            }
            privacy_page(
                ctx,
                Form {
                    errors,
                    problem,
                    ..Form::default()
                },
                a.status,
            )
        }
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}
