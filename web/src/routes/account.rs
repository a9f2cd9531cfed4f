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

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::app::{Ctx, MONTH, SESSION_COOKIE, all_countries};
use crate::components::Csrf;
use crate::http::{Response, field};
use crate::routes::checkout::{CheckoutForm as Form, text_field};
use crate::site::{self, RegionInfo};

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
        (false, ["addresses"]) => addresses_page(ctx, Form::default(), None, 200),
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
        attempt: String::new(),
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

fn sign_up_page(ctx: &Ctx, form: Form, status: u16) -> Response {
    let country = current_country(ctx);
    ctx.page(status, "Create an account", "", move || {
        let consent = form.error("accept_privacy_notice").map(|e| view! { <p class="field-error" id="accept-error">{e}</p> });
        view! {
            <h1>"Create an account"</h1>
            {problem(&form)}
            <form class="account" method="post" action="/account/sign-up" novalidate>
                <Csrf/>
                {text_field(&form, "name", "Full name", "text", "name", true)}
                {text_field(&form, "email", "Email", "email", "email", true)}
                {password_field(&form, "password", "Password (at least 10 characters)", "new-password")}
                {country_field(&form, "Your country (your account is kept in its region)", country)}
                <div class="field">
                    <input type="checkbox" id="accept_privacy_notice" name="accept_privacy_notice" value="yes" aria-describedby="accept-error"/>
                    " "
                    <label for="accept_privacy_notice">"I have read " <a href="/region">"where my details are kept"</a> "."</label>
                    {consent}
                </div>
                <div class="field">
                    <input type="checkbox" id="marketing_emails" name="marketing_emails" value="yes"/>
                    " "
                    <label for="marketing_emails">"Send me offers by e-mail (optional)"</label>
                </div>
                <button type="submit">"Create account"</button>
            </form>
            <p>"Already have an account? " <a href="/account/sign-in">"Sign in"</a></p>
        }
        .into_any()
    })
}

fn sign_up(ctx: &mut Ctx) -> Response {
    use shopper_input::Password;
    let all = ctx.request.form();
    let kept = values(ctx, &["name", "email", "country"]);
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let country = site::country(&value("country"));
    let errors = errors_of(
        &[
            &contact_checks(&value("name"), &value("email"))[..],
            &[
                (
                    "password",
                    Password::parse(&value("password")).is_ok(),
                    "Use at least 10 characters (at most 128).",
                ),
                (
                    "country",
                    country.is_some(),
                    "Choose your country from the list.",
                ),
                (
                    "accept_privacy_notice",
                    value("accept_privacy_notice") == "yes",
                    "Please confirm you have read where your details are kept.",
                ),
            ][..],
        ]
        .concat(),
    );
    let form = |errors, problem| refilled(&kept, errors, problem);
    let Some(country) = country.filter(|_| errors.is_empty()) else {
        return sign_up_page(ctx, form(errors, None), 422);
    };
    let region = site::home_region(&country.code);
    let body = json!({
        "storefront": ctx.scope.storefront, "email": value("email"), "name": value("name"),
        "password": value("password"), "country": country.code,
        "accept_privacy_notice": true, "marketing_emails": value("marketing_emails") == "yes",
    });
    let Some(answer) = call(ctx, region, "POST", "/v1/accounts", Some(&body)) else {
        return sign_up_page(
            ctx,
            form(
                Vec::new(),
                Some("We could not reach the shop just now; please try again.".into()),
            ),
            503,
        );
    };
    match answer.status {
        // The same answer whether or not the address has an account: the mail says which.
        202 => {
            let values = vec![
                ("email".to_owned(), value("email")),
                ("country".to_owned(), country.code.to_owned()),
            ];
            confirm_page(
                ctx,
                Form {
                    values,
                    ..Form::default()
                },
                200,
            )
        }
        status => {
            let (errors, problem) = refusal(&answer);
            sign_up_page(
                ctx,
                form(errors, problem),
                if status >= 500 { 503 } else { status.max(400) },
            )
        }
    }
}

/// "Check your e-mail": the code form, the address and country carried in hidden fields.
fn confirm_page(ctx: &Ctx, form: Form, status: u16) -> Response {
    ctx.page(status, "Confirm your account", "", move || {
        let email = form.value("email");
        view! {
            <h1>"Check your e-mail"</h1>
            <p>{format!("We sent a code to {email}. Enter it here to finish creating your account; it is valid for 24 hours. If the address already has an account, the message says so: sign in instead.")}</p>
            {problem(&form)}
            <form class="confirm" method="post" action="/account/confirm" novalidate>
                <Csrf/>
                <input type="hidden" name="email" value=email.clone()/>
                <input type="hidden" name="country" value=form.value("country")/>
                {text_field(&form, "code", "Code from the e-mail", "text", "one-time-code", true)}
                <button type="submit">"Confirm"</button>
            </form>
        }
        .into_any()
    })
}

fn confirm(ctx: &mut Ctx) -> Response {
    let all = ctx.request.form();
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let kept = values(ctx, &["email", "country"]);
    let form = |errors, problem| refilled(&kept, errors, problem);
    let code_ok = (1..=32).contains(&value("code").chars().count());
    let (Some(country), true) = (site::country(&value("country")), code_ok) else {
        return confirm_page(
            ctx,
            form(
                vec![("code".into(), "Enter the code from the e-mail.".into())],
                None,
            ),
            422,
        );
    };
    let region = site::home_region(&country.code);
    let body =
        json!({"storefront": ctx.scope.storefront, "email": value("email"), "code": value("code")});
    let Some(answer) = call(ctx, region, "POST", "/v1/accounts/confirm", Some(&body)) else {
        return confirm_page(
            ctx,
            form(
                Vec::new(),
                Some("We could not reach the shop just now; please try again.".into()),
            ),
            503,
        );
    };
    match answer.status {
        201 => signed_in(ctx, &answer),
        401 => confirm_page(
            ctx,
            form(
                vec![("code".into(), "That code is wrong or has expired.".into())],
                None,
            ),
            401,
        ),
        status => {
            let (errors, problem) = refusal(&answer);
            confirm_page(
                ctx,
                form(errors, problem),
                if status >= 500 { 503 } else { status.max(400) },
            )
        }
    }
}

/// Keeps the new session and goes to the account.
fn signed_in(ctx: &mut Ctx, answer: &Answer) -> Response {
    let session = answer.json["session"].as_str().unwrap_or("");
    if crate::app::session_region(session).is_none() {
        return unreachable_page(ctx);
    }
    ctx.set(SESSION_COOKIE, session, MONTH);
    ctx.finish(Response::redirect("/account"))
}

fn sign_in_page(ctx: &Ctx, form: Form, status: u16) -> Response {
    let country = current_country(ctx);
    ctx.page(status, "Sign in", "", move || {
        view! {
            <h1>"Sign in"</h1>
            {problem(&form)}
            <form class="account" method="post" action="/account/sign-in" novalidate>
                <Csrf/>
                {text_field(&form, "email", "Email", "email", "username", true)}
                {password_field(&form, "password", "Password", "current-password")}
                {country_field(&form, "Country of your account", country)}
                <button type="submit">"Sign in"</button>
            </form>
            <p><a href="/account/reset">"Forgot your password?"</a></p>
            <p>"New here? " <a href="/account/sign-up">"Create an account"</a></p>
        }
        .into_any()
    })
}

fn sign_in(ctx: &mut Ctx) -> Response {
    use shopper_input::Email;
    let all = ctx.request.form();
    let kept = values(ctx, &["email", "country"]);
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let country = site::country(&value("country"));
    let errors = errors_of(&[
        (
            "email",
            Email::parse(&value("email")).is_ok(),
            "Enter an email address like name@example.com.",
        ),
        (
            "password",
            !value("password").is_empty(),
            "Enter your password.",
        ),
        (
            "country",
            country.is_some(),
            "Choose the country of your account.",
        ),
    ]);
    let form = |errors, problem| refilled(&kept, errors, problem);
    let Some(country) = country.filter(|_| errors.is_empty()) else {
        return sign_in_page(ctx, form(errors, None), 422);
    };
    let region = site::home_region(&country.code);
    let body = json!({"storefront": ctx.scope.storefront, "email": value("email"), "password": value("password")});
    let Some(answer) = call(ctx, region, "POST", "/v1/sessions", Some(&body)) else {
        return sign_in_page(
            ctx,
            form(
                Vec::new(),
                Some("We could not reach the shop just now; please try again.".into()),
            ),
            503,
        );
    };
    match answer.status {
        201 => signed_in(ctx, &answer),
        401 => sign_in_page(
            ctx,
            form(
                Vec::new(),
                Some("The e-mail address or the password is wrong.".into()),
            ),
            401,
        ),
        status => {
            let (errors, problem) = refusal(&answer);
            sign_in_page(
                ctx,
                form(errors, problem),
                if status >= 500 { 503 } else { status.max(400) },
            )
        }
    }
}

fn reset_page(ctx: &Ctx, form: Form, status: u16) -> Response {
    let country = current_country(ctx);
    ctx.page(status, "Forgot your password", "", move || {
        view! {
            <h1>"Forgot your password?"</h1>
            <p>"We mail a code to your address; with it you choose a new password."</p>
            {problem(&form)}
            <form class="reset" method="post" action="/account/reset" novalidate>
                <Csrf/>
                {text_field(&form, "email", "Email", "email", "username", true)}
                {country_field(&form, "Country of your account", country)}
                <button type="submit">"Send the code"</button>
            </form>
        }
        .into_any()
    })
}

/// The code and new password form, the address and country carried in hidden fields.
fn reset_code_page(ctx: &Ctx, form: Form, status: u16) -> Response {
    ctx.page(status, "Choose a new password", "", move || {
        let email = form.value("email");
        view! {
            <h1>"Choose a new password"</h1>
            <p>{format!("If {email} has an account here, we sent it a code; it is valid for an hour.")}</p>
            {problem(&form)}
            <form class="reset-confirm" method="post" action="/account/reset/confirm" novalidate>
                <Csrf/>
                <input type="hidden" name="email" value=email.clone()/>
                <input type="hidden" name="country" value=form.value("country")/>
                {text_field(&form, "code", "Code from the e-mail", "text", "one-time-code", true)}
                {password_field(&form, "new_password", "New password (at least 10 characters)", "new-password")}
                <button type="submit">"Set the new password"</button>
            </form>
        }
        .into_any()
    })
}

fn request_reset(ctx: &mut Ctx) -> Response {
    let all = ctx.request.form();
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let kept = values(ctx, &["email", "country"]);
    let form = |errors, problem| refilled(&kept, errors, problem);
    let country = site::country(&value("country"));
    let errors = errors_of(&[
        (
            "email",
            shopper_input::Email::parse(&value("email")).is_ok(),
            "Enter an email address like name@example.com.",
        ),
        (
            "country",
            country.is_some(),
            "Choose the country of your account.",
        ),
    ]);
    let Some(country) = country.filter(|_| errors.is_empty()) else {
        return reset_page(ctx, form(errors, None), 422);
    };
    let region = site::home_region(&country.code);
    let body = json!({"storefront": ctx.scope.storefront, "email": value("email")});
    match call(
        ctx,
        region,
        "POST",
        "/v1/accounts/password-reset",
        Some(&body),
    ) {
        Some(a) if a.status == 202 => reset_code_page(ctx, form(Vec::new(), None), 200),
        Some(a) if a.status < 500 => {
            let (errors, problem) = refusal(&a);
            reset_page(ctx, form(errors, problem), a.status.max(400))
        }
        _ => reset_page(
            ctx,
            form(
                Vec::new(),
                Some("We could not reach the shop just now; please try again.".into()),
            ),
            503,
        ),
    }
}

fn reset_password(ctx: &mut Ctx) -> Response {
    let all = ctx.request.form();
    let value = |n: &str| field(&all, n).unwrap_or("").to_owned();
    let kept = values(ctx, &["email", "country"]);
    let form = |errors, problem| refilled(&kept, errors, problem);
    let errors = errors_of(&[
        (
            "code",
            (1..=32).contains(&value("code").chars().count()),
            "Enter the code from the e-mail.",
        ),
        (
            "new_password",
            shopper_input::Password::parse(&value("new_password")).is_ok(),
            "Use at least 10 characters (at most 128).",
        ),
    ]);
    let country = site::country(&value("country"));
    let Some(country) = country.filter(|_| errors.is_empty()) else {
        return reset_code_page(ctx, form(errors, None), 422);
    };
    let region = site::home_region(&country.code);
    let body = json!({"storefront": ctx.scope.storefront, "email": value("email"),
                      "code": value("code"), "new_password": value("new_password")});
    match call(
        ctx,
        region,
        "POST",
        "/v1/accounts/password-reset/confirm",
        Some(&body),
    ) {
        Some(a) if a.status == 201 => signed_in(ctx, &a),
        Some(a) if a.status == 401 => reset_code_page(
            ctx,
            form(
                vec![("code".into(), "That code is wrong or has expired.".into())],
                None,
            ),
            401,
        ),
        Some(a) if a.status < 500 => {
            let (errors, problem) = refusal(&a);
            reset_code_page(ctx, form(errors, problem), a.status.max(400))
        }
        _ => reset_code_page(
            ctx,
            form(
                Vec::new(),
                Some("We could not reach the shop just now; please try again.".into()),
            ),
            503,
        ),
    }
}

fn sign_out(ctx: &mut Ctx, path: &str) -> Response {
    if ctx.session.is_some() {
        let region = ctx.site.region;
        // Signed out here whatever the core answers; the core forgets the session.
        let _ = call(ctx, region, "DELETE", path, None);
    }
    ctx.set(SESSION_COOKIE, "", 0);
    ctx.finish(Response::redirect("/"))
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or("").to_owned()
}

fn date(v: &Value, key: &str) -> String {
    text(v, key).chars().take(10).collect()
}

fn account_page(ctx: &mut Ctx) -> Response {
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
fn details_page(ctx: &mut Ctx, form: Option<Form>, status: u16) -> Response {
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

fn save_details(ctx: &mut Ctx) -> Response {
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

fn password_page(ctx: &mut Ctx, form: Form, status: u16) -> Response {
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

fn change_password(ctx: &mut Ctx) -> Response {
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

fn order_page(ctx: &mut Ctx, id: &str) -> Response {
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

fn address_values(a: &Value) -> Vec<(String, String)> {
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

fn address_form(form: &Form, action: String, button: &'static str) -> AnyView {
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

fn addresses_page(ctx: &mut Ctx, mut form: Form, _editing: Option<&str>, status: u16) -> Response {
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

fn edit_address_page(ctx: &mut Ctx, id: &str) -> Response {
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

fn save_address(ctx: &mut Ctx, id: Option<&str>) -> Response {
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
        return addresses_page(ctx, form(errors, None), id, 422);
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
            addresses_page(ctx, form(errors, problem), id, 422)
        }
        Ok(_) => unreachable_page(ctx),
        Err(r) => r,
    }
}

fn remove_address(ctx: &mut Ctx, id: &str) -> Response {
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

fn privacy_page(ctx: &mut Ctx, form: Form, status: u16) -> Response {
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

fn export(ctx: &mut Ctx) -> Response {
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

fn erase(ctx: &mut Ctx) -> Response {
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
