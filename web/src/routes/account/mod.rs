//! The shopper's account (`/account/...`): sign-up, sign-in and out, the account page with
//! its orders, one order, saved addresses, and privacy (export, erasure). Every page is
//! fetched from the account's home region core per request and never stored here: the edge
//! keeps only the session cookie, which names the region and carries a token only the core
//! can read.
//!
//! | route | what |
//! |---|---|
//! | `GET/POST /account/sign-up`, `POST /account/confirm` | a new account in the chosen country's region, confirmed with the code its core mails |
//! | `GET/POST /account/sign-in` | signing in at the account's region |
//! | `GET/POST /account/reset`, `POST /account/reset/confirm` | a forgotten password, replaced with a mailed code |
//! | `POST /account/sign-out`, `POST /account/sign-out-everywhere` | ending sessions |
//! | `GET /account?page=` | details and orders, newest first |
//! | `GET /account/orders/{id}` | one order |
//! | `GET/POST /account/details`, `GET/POST /account/password` | name and e-mail (a new address needs the password), a new password (other sessions end) |
//! | `GET/POST /account/addresses`, `GET/POST /account/addresses/{id}`, `POST /account/addresses/{id}/remove` | saved addresses |
//! | `GET /account/privacy`, `GET /account/export`, `POST /account/erase` | data-subject rights |
//!
//! This file dispatches and holds what every page shares: the call to the account's core,
//! forms given back with their errors, and the fields. `access` opens, confirms and
//! recovers accounts and starts and ends sessions; `profile` is the account page, an order,
//! details and password; `addresses` the saved addresses; `privacy` the download and
//! erasure.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::app::{Ctx, MONTH, SESSION_COOKIE, all_countries};
use crate::components::Csrf;
use crate::http::{Response, field};
use crate::routes::checkout::{CheckoutForm as Form, text_field};
use crate::site::{self, RegionInfo};

mod access;
mod addresses;
mod privacy;
mod profile;

use access::*;
use addresses::*;
use privacy::*;
use profile::*;

pub(crate) fn route(ctx: &mut Ctx, rest: &[&str]) -> Response {
    let post = ctx.request.method == "POST";
    if post && !ctx.csrf_ok(&ctx.request.form()) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    match (post, rest) {
        (false, ["sign-up"]) => sign_up_page(ctx, Form::default(), 200),
        (true, ["sign-up"]) => sign_up(ctx),
        (true, ["confirm"]) => confirm(ctx),
        (false, ["reset"]) => reset_page(ctx, Form::default(), 200),
        (true, ["reset"]) => request_reset(ctx),
        (true, ["reset", "confirm"]) => reset_password(ctx),
        (false, ["sign-in"]) => sign_in_page(ctx, Form::default(), 200),
        (true, ["sign-in"]) => sign_in(ctx),
        (true, ["sign-out"]) => sign_out(ctx, "/v1/sessions/current"),
        (true, ["sign-out-everywhere"]) => sign_out(ctx, "/v1/sessions"),
        (false, []) => account_page(ctx),
        (false, ["orders", id]) => order_page(ctx, id),
        (false, ["details"]) => details_page(ctx, None, 200),
        (true, ["details"]) => save_details(ctx),
        (false, ["password"]) => password_page(ctx, Form::default(), 200),
        (true, ["password"]) => change_password(ctx),
        (false, ["addresses"]) => addresses_page(ctx, Form::default(), 200),
        (true, ["addresses"]) => save_address(ctx, None),
        (false, ["addresses", id]) => edit_address_page(ctx, id),
        (true, ["addresses", id]) => save_address(ctx, Some(id)),
        (true, ["addresses", id, "remove"]) => remove_address(ctx, id),
        (false, ["privacy"]) => privacy_page(ctx, Form::default(), 200),
        (false, ["export"]) => export(ctx),
        (true, ["erase"]) => erase(ctx),
        _ => ctx.not_found("this page"),
    }
}

/// The core of `region` (its `core_url_<region>` variable).
fn core_of(region: &RegionInfo) -> Option<String> {
    let name = format!("core_url_{}", region.id.replace('-', "_"));
    crate::services::variable(&name).map(|u| u.trim_end_matches('/').to_owned())
}

/// What a core answered: status and JSON body.
struct Answer {
    status: u16,
    json: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    fn message(&self) -> String {
        self.json["error"]["message"]
            .as_str()
            .unwrap_or("the request was refused")
            .to_owned()
    }
}

/// Calls `path` at `region`'s core, with the session (if any) as bearer token and the
/// shopper's address for the core's attempt limits. `None` when the core is unreachable.
fn call(
    ctx: &Ctx,
    region: &RegionInfo,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Option<Answer> {
    let core = core_of(region)?;
    let bearer = ctx.session.as_ref().map(|s| format!("Bearer {s}"));
    let client = ctx
        .request
        .header("spin-client-addr")
        .map(|a| a.rsplit_once(':').map_or(a, |(ip, _)| ip))
        .map(|ip| ip.trim_matches(|c| c == '[' || c == ']').to_owned());
    let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("authorization", b));
    }
    if let Some(c) = &client {
        headers.push(("x-forwarded-for", c));
    }
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let (status, answer) =
        crate::platform::send(method, &format!("{core}{path}"), &headers, &bytes).ok()?;
    Some(Answer {
        status,
        json: serde_json::from_slice(&answer).unwrap_or_default(),
    })
}

fn unreachable_page(ctx: &Ctx) -> Response {
    ctx.error(
        503,
        "We could not reach your account just now. Please try again.".into(),
    )
}

/// The account's answer to a signed-in request, or the response to send instead: the
/// sign-in page when there is no live session (the cookie is cleared).
fn signed_in_call(
    ctx: &mut Ctx,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Answer, Response> {
    if ctx.session.is_none() {
        return Err(ctx.finish(Response::redirect("/account/sign-in")));
    }
    let region = ctx.site.region;
    let answer = call(ctx, region, method, path, body).ok_or_else(|| unreachable_page(ctx))?;
    if answer.status == 401 {
        ctx.set(SESSION_COOKIE, "", 0);
        return Err(ctx.finish(Response::redirect("/account/sign-in")));
    }
    Ok(answer)
}

fn values(ctx: &Ctx, keep: &[&str]) -> Vec<(String, String)> {
    ctx.request
        .form()
        .into_iter()
        .filter(|(k, _)| keep.contains(&k.as_str()))
        .collect()
}

fn errors_of(checks: &[(&str, bool, &str)]) -> Vec<(String, String)> {
    checks
        .iter()
        .filter(|(_, ok, _)| !ok)
        .map(|(f, _, m)| ((*f).to_owned(), (*m).to_owned()))
        .collect()
}

/// A form given back: the values kept, with what to fix.
fn refilled(
    kept: &[(String, String)],
    errors: Vec<(String, String)>,
    problem: Option<String>,
) -> Form {
    Form {
        values: kept.to_vec(),
        errors,
        problem,
        ..Form::default()
    }
}

/// The name and e-mail checks of every form that takes them (the shared input library's).
fn contact_checks(name: &str, email: &str) -> [(&'static str, bool, &'static str); 2] {
    [
        (
            "name",
            shopper_input::PersonName::parse(name).is_ok(),
            "Enter your full name.",
        ),
        (
            "email",
            shopper_input::Email::parse(email).is_ok(),
            "Enter an email address like name@example.com.",
        ),
    ]
}

/// A refusal from the core as the form shows it: next to its field when it names one.
fn refusal(answer: &Answer) -> (Vec<(String, String)>, Option<String>) {
    if answer.status == 429 {
        let minutes = (answer.json["error"]["retry_after_secs"]
            .as_i64()
            .unwrap_or(60)
            .max(1)
            + 59)
            / 60;
        return (
            Vec::new(),
            Some(format!(
                "Too many attempts. Please try again in {minutes} minute(s)."
            )),
        );
    }
    match answer.json["error"]["field"].as_str() {
        Some(f) => (
            vec![(
                f.rsplit('.').next().unwrap_or(f).to_owned(),
                answer.message(),
            )],
            None,
        ),
        None => (Vec::new(), Some(answer.message())),
    }
}

fn country_field(form: &Form, label: &'static str, chosen_default: String) -> AnyView {
    let chosen = Some(form.value("country"))
        .filter(|c| !c.is_empty())
        .unwrap_or(chosen_default);
    let options = all_countries()
        .into_iter()
        .map(|(code, name)| {
            let selected = code == chosen;
            view! { <option value=code selected=selected>{name}</option> }
        })
        .collect_view();
    let error = form
        .error("country")
        .map(|e| view! { <p class="field-error" id="country-error">{e}</p> });
    view! {
        <div class="field">
            <label for="country">{label}</label>
            <select id="country" name="country" autocomplete="country" aria-describedby="country-error">{options}</select>
            {error}
        </div>
    }
    .into_any()
}

fn password_field(
    form: &Form,
    name: &'static str,
    label: &'static str,
    autocomplete: &'static str,
) -> AnyView {
    // A password is never sent back in a page.
    let error = form.error(name);
    let error_id = format!("{name}-error");
    let invalid = if error.is_some() { "true" } else { "false" };
    let message = error.map(|e| view! { <p class="field-error" id=error_id.clone()>{e}</p> });
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=name type="password" autocomplete=autocomplete required=true
                aria-invalid=invalid aria-describedby=error_id.clone()/>
            {message}
        </div>
    }
    .into_any()
}

fn problem(form: &Form) -> Option<AnyView> {
    form.problem
        .clone()
        .map(|p| view! { <p class="error" role="alert">{p}</p> }.into_any())
}

fn current_country(ctx: &Ctx) -> String {
    ctx.site.pricing_country()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or("").to_owned()
}

fn date(v: &Value, key: &str) -> String {
    text(v, key).chars().take(10).collect()
}
