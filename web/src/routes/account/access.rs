//! Opening an account (confirmed with a mailed code), signing in and out, and replacing a
//! forgotten password.

use super::*;

pub(super) fn sign_up_page(ctx: &Ctx, form: Form, status: u16) -> Response {
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

pub(super) fn sign_up(ctx: &mut Ctx) -> Response {
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
pub(super) fn confirm_page(ctx: &Ctx, form: Form, status: u16) -> Response {
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

pub(super) fn confirm(ctx: &mut Ctx) -> Response {
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
pub(super) fn signed_in(ctx: &mut Ctx, answer: &Answer) -> Response {
    let session = answer.json["session"].as_str().unwrap_or("");
    if crate::app::session_region(session).is_none() {
        return unreachable_page(ctx);
    }
    ctx.set(SESSION_COOKIE, session, MONTH);
    ctx.finish(Response::redirect("/account"))
}

pub(super) fn sign_in_page(ctx: &Ctx, form: Form, status: u16) -> Response {
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

pub(super) fn sign_in(ctx: &mut Ctx) -> Response {
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

pub(super) fn reset_page(ctx: &Ctx, form: Form, status: u16) -> Response {
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
pub(super) fn reset_code_page(ctx: &Ctx, form: Form, status: u16) -> Response {
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

pub(super) fn request_reset(ctx: &mut Ctx) -> Response {
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

pub(super) fn reset_password(ctx: &mut Ctx) -> Response {
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

pub(super) fn sign_out(ctx: &mut Ctx, path: &str) -> Response {
    if ctx.session.is_some() {
        let region = ctx.site.region;
        // Signed out here whatever the core answers; the core forgets the session.
        let _ = call(ctx, region, "DELETE", path, None);
    }
    ctx.set(SESSION_COOKIE, "", 0);
    ctx.finish(Response::redirect("/"))
}
