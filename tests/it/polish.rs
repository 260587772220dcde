//! What a visitor, a member and an admin see around the edges (issue 22): error pages for the
//! real viewer with a way back, confirmations before destroying, tags as typed, onboarding, and
//! words that match the numbers.

use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, form_body, question};

backend_tests!(
    error_pages_are_rendered_for_the_real_viewer,
    list_parameters_out_of_their_set_link_what_exists,
    a_page_past_the_end_says_so,
    deleting_and_closing_ask_first,
    hiding_and_banning_ask_first,
    tags_keep_what_tells_them_apart,
    two_different_tags_never_become_one_silently,
    flashes_are_styled_by_kind,
    the_audit_log_and_the_embed_name_and_link_people,
    first_visits_and_new_accounts_are_welcomed,
    results_and_sessions_are_worded_for_people,
    a_fresh_install_reports_its_demo_activity,
    each_question_has_a_page_of_numbers,
    reports_have_an_all_time_window,
);

async fn error_pages_are_rendered_for_the_real_viewer(b: Backend) {
    let app = TestApp::new(b).await;
    // Anonymous: the header offers to log in; the page offers the way back.
    let (s, body) = app.get("/q/999999/nothing-here").await;
    assert_eq!(s, Status::NotFound);
    assert!(body.contains("href=\"/login\""), "anonymous header");
    assert!(body.contains("Back to the front page"));

    app.signup("errol", "errol@example.com", PASSWORD).await;
    // A member's 404: their own header, no "Log in / Sign up".
    let (s, body) = app.get("/q/999999/nothing-here").await;
    assert_eq!(s, Status::NotFound);
    assert!(body.contains("@errol"), "the member's header");
    assert!(
        !body.contains("href=\"/signup\""),
        "no sign-up link for a member"
    );
    assert!(body.contains("There is no such question."));
    // A handler's error (not a guard's) is rendered for the member too.
    let (s, body) = app.get("/u/nobody-at-all").await;
    assert_eq!(s, Status::NotFound);
    assert!(body.contains("@errol"));
    // A member at an admin page: their header, and no admin link offered.
    let (s, body) = app.get("/admin").await;
    assert_eq!(s, Status::Forbidden);
    assert!(body.contains("@errol"));
    assert!(!body.contains("Back to the admin area"));
    // The API still answers JSON, with the same codes.
    let r = app.client.get("/api/v1/questions/999999").dispatch().await;
    assert_eq!(r.status(), Status::NotFound);
    assert_eq!(r.content_type(), Some(ContentType::JSON));
    // A refused vote shows the question itself again, with the reason.
    let qid = app
        .question(question("Can a closed poll take votes?").closed())
        .await;
    let open = app
        .question(question("An open question for a token?"))
        .await;
    let token = app.csrf_from_page(open).await;
    let r = app
        .post_vote(qid, &app.choices(qid).await[..1], &token)
        .await;
    assert_eq!(r.status(), Status::Conflict);
    let body = r.into_string().await.unwrap();
    assert!(body.contains("Can a closed poll take votes?") && body.contains("closed"));
    // Someone else's question to edit: refused, with the way back to the question.
    let (s, body) = app.get(&format!("/q/{open}/edit")).await;
    assert_eq!(s, Status::Forbidden);
    assert!(
        body.contains(&format!("href=\"/q/{open}\">Back to the question")),
        "{body}"
    );
}

async fn list_parameters_out_of_their_set_link_what_exists(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, body) = app.get("/top?window=year").await;
    assert_eq!(s, Status::NotFound);
    assert!(
        body.contains("“year” is not a period of the top questions"),
        "{body}"
    );
    for window in ["day", "week", "month", "all"] {
        assert!(body.contains(&format!("href=\"/top?window={window}\"")));
    }
    assert!(!body.contains("expected one of"), "no developer wording");
    let (s, body) = app.get("/search?q=lakes&sort=best").await;
    assert_eq!(s, Status::NotFound);
    assert!(
        body.contains("href=\"/search?q=lakes&sort=relevance\""),
        "{body}"
    );
    let (s, body) = app.get("/search?q=lakes&status=maybe").await;
    assert_eq!(s, Status::NotFound);
    assert!(body.contains("Only open questions"));
    let (s, body) = app.get("/new?page=two").await;
    assert_eq!(s, Status::NotFound);
    assert!(body.contains("There is no page “two” of this list"));
    assert!(body.contains("href=\"/new\""));
    // The API keeps its 400 and codes.
    let r = app
        .client
        .get("/api/v1/questions?window=year")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::BadRequest);
}

async fn a_page_past_the_end_says_so(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("The only question on the site?"))
        .await;
    let (s, body) = app.get("/new?page=10").await;
    assert_eq!(s, Status::Ok);
    assert!(
        body.contains("Page 10 is past the end of this list."),
        "{body}"
    );
    assert!(body.contains("href=\"/new\""), "a way to the first page");
    assert!(!body.contains("No questions here yet"));
    let (_, body) = app.get("/search?q=question&page=7").await;
    assert!(body.contains("Page 7 is past the end of these results."));
    // A search that finds nothing says so and offers to ask it.
    let (_, body) = app.get("/search?q=zeppelins").await;
    assert!(body.contains("No questions match “zeppelins”"));
    assert!(body.contains("Ask it"));
}

async fn deleting_and_closing_ask_first(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("della", "della@example.com", PASSWORD).await;
    let uid = app.user_id("della").await;
    let qid = app.question(question("Should this question stay?")).await;
    app.set_author(qid, uid).await;
    let canonical = app.path(qid).await;
    let (_, page) = app.get(&canonical).await;
    assert!(
        page.contains("data-confirm=\"Delete this question?\""),
        "the dialog's question"
    );
    assert!(page.contains("js/confirm."), "the dialog's script");

    // Without confirm=yes: the confirmation page, and nothing changes.
    for (action, heading, yes) in [
        ("delete", "Delete this question?", "Delete the question"),
        ("close", "Close voting now?", "Close voting"),
    ] {
        let r = app
            .post_form(&canonical, &format!("/q/{qid}/{action}"), &[])
            .await;
        assert_eq!(r.status(), Status::Ok, "{action}");
        let html = r.into_string().await.unwrap();
        assert!(html.contains(heading), "{action}: {html}");
        assert!(
            html.contains("Should this question stay?"),
            "names the question"
        );
        assert!(html.contains("name=\"confirm\" value=\"yes\""));
        assert!(html.contains(&format!("action=\"/q/{qid}/{action}\"")));
        assert!(html.contains(yes));
        assert!(
            html.contains(&format!("href=\"{canonical}\"")),
            "Cancel goes back"
        );
        let (s, page) = app.get(&canonical).await;
        assert_eq!(s, Status::Ok, "{action}: still there");
        assert!(page.contains("Close voting now"), "{action}: still open");
    }
    // Confirmed: done.
    let r = app
        .post_form(
            &canonical,
            &format!("/q/{qid}/close"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let (_, page) = app.get(&canonical).await;
    assert!(page.contains("Voting is closed"));
    let r = app
        .post_form(
            &canonical,
            &format!("/q/{qid}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/u/della"));
    drop(r);
    let (_, profile) = app.get("/u/della").await;
    assert!(
        profile.contains("Your question “Should this question stay?” was deleted."),
        "the profile says what happened"
    );
    assert_eq!(app.get(&canonical).await.0, Status::NotFound);
    // Someone else's question: no confirmation page, the refusal.
    let other = app.question(question("Whose question is this?")).await;
    let r = app.post_form("/", &format!("/q/{other}/delete"), &[]).await;
    assert_eq!(r.status(), Status::Forbidden);
}

async fn hiding_and_banning_ask_first(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Spam, spam, spam?")).await;
    app.signup("sam", "sam@example.com", PASSWORD).await;
    let uid = app.user_id("sam").await;
    app.logout().await;
    crate::admin::login_admin(&app).await;
    let (_, list) = app.get("/admin/questions").await;
    assert!(list.contains("data-confirm=\"Hide “Spam, spam, spam?”?\""));

    let hide = format!("/admin/questions/{qid}/hide");
    let path = app.path(qid).await;
    let r = app
        .post_form(
            "/admin/questions",
            &hide,
            &[("reason", "spam"), ("back", "/admin/questions?page=1")],
        )
        .await;
    assert_eq!(r.status(), Status::Ok);
    let html = r.into_string().await.unwrap();
    assert!(html.contains("Hide “Spam, spam, spam?”?"), "{html}");
    assert!(
        html.contains("name=\"reason\" value=\"spam\""),
        "the reason is carried"
    );
    assert!(html.contains("name=\"back\" value=\"&#x2F;admin&#x2F;questions?page=1\""));
    assert_eq!(app.get(&path).await.0, Status::Ok, "not hidden yet");

    let r = app
        .post_form(
            "/admin/questions",
            &hide,
            &[("reason", "spam"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    assert_eq!(app.get(&path).await.0, Status::NotFound);
    // The flash names the question, not its id.
    let (_, list) = app.get("/admin/questions").await;
    assert!(list.contains("“Spam, spam, spam?” is hidden."), "{list}");

    let ban = format!("/admin/users/{uid}/ban");
    let r = app
        .post_form(
            "/admin/users",
            &ban,
            &[("reason", "brigading"), ("hide_questions", "true")],
        )
        .await;
    assert_eq!(r.status(), Status::Ok);
    let html = r.into_string().await.unwrap();
    assert!(html.contains("Ban @sam?"));
    assert!(html.contains("All their questions will be hidden too."));
    assert!(html.contains("name=\"hide_questions\" value=\"true\""));
    let (_, users) = app.get("/admin/users").await;
    assert!(!users.contains("badge-warn\">banned"), "not banned yet");
    let r = app
        .post_form(
            "/admin/users",
            &ban,
            &[("reason", "brigading"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, users) = app.get("/admin/users").await;
    assert!(
        users.contains("@sam is banned and logged out everywhere."),
        "{users}"
    );
    // An admin cannot be banned: refused at once, not asked about first.
    let boss = app.user_id("boss").await;
    let ban_boss = format!("/admin/users/{boss}/ban");
    let r = app
        .post_form("/admin/users", &ban_boss, &[("reason", "x")])
        .await;
    assert_eq!(r.status(), Status::Conflict);
    assert!(
        r.into_string()
            .await
            .unwrap()
            .contains("Admins cannot be banned")
    );
}

async fn tags_keep_what_tells_them_apart(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Which language first?").tags(&["C++", "c#", ".NET", "Hello World"]))
        .await;
    let (_, page) = app.get(&app.path(qid).await).await;
    for (shown, href) in [
        ("c++", "/t/c%2B%2B"),
        ("c#", "/t/c%23"),
        (".net", "/t/.net"),
        ("hello-world", "/t/hello-world"),
    ] {
        assert!(
            page.contains(&format!("href=\"{href}\">{shown}</a>")),
            "{shown}: {page}"
        );
    }
    for uri in ["/t/c++", "/t/c%2B%2B", "/t/c%23", "/t/.net"] {
        let (s, body) = app.get(uri).await;
        assert_eq!(s, Status::Ok, "{uri}");
        assert!(body.contains("Which language first?"), "{uri}");
    }
    // `c` is not one of them: nothing collapsed into it.
    assert_eq!(app.get("/t/c").await.0, Status::NotFound);
    // Pagination of a tag with `#` keeps the tag in the link.
    let (_, tags) = app.get("/tags").await;
    assert!(tags.contains("href=\"/t/c%23\""), "{tags}");
}

fn ask_with_tags<'a>(title: &'a str, tags: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("description", "Typed with care."),
        ("tags", tags),
        ("kind", "single"),
        ("results_visibility", "always"),
        ("duplicate_protection", "browser"),
        ("choice", "Yes"),
        ("choice", "No"),
        ("action", "submit"),
    ]
}

async fn two_different_tags_never_become_one_silently(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("tess", "tess@example.com", PASSWORD).await;
    let questions = || async {
        app.db
            .run(|c| Ok(beebeta::models::user::site_totals(c)?.1))
            .await
            .unwrap()
    };
    for (typed, said) in [
        (
            "C--, C",
            "“C--” and “C” would both become the tag “c”: remove one or write them differently.",
        ),
        (
            "Café, Cafe",
            "“Café” and “Cafe” would both become the tag “cafe”",
        ),
        ("#C", "“#C” would become the tag “c”, losing characters"),
    ] {
        let r = app
            .post_form(
                "/ask",
                "/ask",
                &ask_with_tags("Which one did you mean?", typed),
            )
            .await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "{typed}");
        let html = r.into_string().await.unwrap();
        assert!(html.contains(said), "{typed}: {html}");
        assert!(
            html.contains(&format!("name=\"tags\" value=\"{typed}\"")),
            "what was typed is kept: {typed}"
        );
        assert!(html.contains("Typed with care."), "the rest is kept too");
    }
    assert_eq!(questions().await, 0, "nothing stored");

    // The same tag typed twice is one tag, without a word.
    let r = app
        .post_form(
            "/ask",
            "/ask",
            &ask_with_tags("Is one tag typed twice one tag?", "rust, Rust, C++"),
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let path = r.headers().get_one("Location").unwrap().to_string();
    let id: i64 = path.split('/').nth(2).unwrap().parse().unwrap();
    let (_, page) = app.get(&path).await;
    assert!(page.contains("href=\"/t/rust\">rust</a>"), "{page}");

    // Editing says the same and changes nothing.
    let edit = format!("/q/{id}/edit");
    let r = app
        .post_form(
            &edit,
            &edit,
            &ask_with_tags("Is one tag typed twice one tag?", "rust, C--, C"),
        )
        .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let html = r.into_string().await.unwrap();
    assert!(html.contains("“C--” and “C” would both become the tag “c”"));
    assert!(html.contains("value=\"rust, C--, C\""));
    assert_eq!(app.get("/t/c").await.0, Status::NotFound);

    // The API answers 422 with the tags field.
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(
            r#"{"title":"Which one did the API mean?","choices":["A","B"],"tags":["Café","Cafe"]}"#,
        )
        .dispatch()
        .await;
    let (s, v) = crate::helpers::json_of(r).await;
    assert_eq!(s, Status::UnprocessableEntity);
    assert_eq!(
        v["error"]["fields"]["tags"],
        "“Café” and “Cafe” would both become the tag “cafe”: remove one or write them differently."
    );
    assert_eq!(questions().await, 1, "only the question with clear tags");
    assert_eq!(app.get("/t/cafe").await.0, Status::NotFound);
}

async fn flashes_are_styled_by_kind(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("smtp_url", "memory"))).await;
    app.signup("flo", "flo@example.com", PASSWORD).await;
    app.verify_email("flo").await;
    let (_, codes, _) = crate::security::enrol(&app, "flo").await;
    // A success reads as one.
    let r = app.post_form("/settings", "/settings/profile", &[]).await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, settings) = app.get("/settings").await;
    assert!(
        settings.contains(
            "<div class=\"notice notice-ok\" role=\"status\">Your profile answers are saved.</div>"
        ),
        "{settings}"
    );
    // On the profile too (a question deleted).
    let qid = app.question(question("Will this one be deleted?")).await;
    app.set_author(qid, app.user_id("flo").await).await;
    let r = app
        .post_form(
            &app.path(qid).await,
            &format!("/q/{qid}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.headers().get_one("Location"), Some("/u/flo"));
    drop(r);
    let (_, profile) = app.get("/u/flo").await;
    assert!(
        profile.contains("<div class=\"notice notice-ok\" role=\"status\">Your question “Will this one be deleted?” was deleted.</div>"),
        "{profile}"
    );
    // Logging in with a recovery code is a warning, not good news.
    app.logout().await;
    drop(app.login_as("flo", PASSWORD, "").await);
    let r = app.second_factor(&codes[0]).await;
    assert_eq!(r.headers().get_one("Location"), Some("/settings"));
    drop(r);
    let (_, settings) = app.get("/settings").await;
    assert!(
        settings.contains(
            "<div class=\"notice notice-warning\" role=\"status\">You logged in with a recovery code; 9 are left."
        ),
        "{settings}"
    );
    assert!(!settings.contains("notice-ok\" role=\"status\">You logged in"));
    // The reason for a detour through the login page is information; an error stays an error.
    app.logout().await;
    let (_, login) = app.get("/login?next=%2Fask").await;
    assert!(
        login.contains("<div class=\"notice notice-ok\" role=\"status\">You are logged out.</div>"),
        "{login}"
    );
    let (_, login) = app.get("/login?next=%2Fask").await;
    assert!(
        login.contains(
            "<div class=\"notice notice-info\" role=\"status\">Please log in to continue.</div>"
        ),
        "{login}"
    );
    let r = app.client.get("/login/2fa").dispatch().await;
    assert_eq!(r.headers().get_one("Location"), Some("/login"));
    drop(r);
    let (_, login) = app.get("/login").await;
    assert!(
        login.contains("<div class=\"notice notice-error\" role=\"alert\">Log in first"),
        "{login}"
    );
}

async fn the_audit_log_and_the_embed_name_and_link_people(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("mallory", "mallory@example.com", PASSWORD).await;
    let uid = app.user_id("mallory").await;
    app.logout().await;
    let hidden = app.question(question("Is this one worth hiding?")).await;
    let shown = app.question(question("Who asked this embedded one?")).await;
    app.set_author(shown, uid).await;
    // The embed names the author with a link to the profile, in a new tab like its other links.
    let (s, embed) = app.get(&format!("/q/{shown}/embed")).await;
    assert_eq!(s, Status::Ok);
    assert!(
        embed.contains(
            "Asked by <a class=\"author\" href=\"http://beebeta.test/u/mallory\" target=\"_blank\" rel=\"noopener\">@mallory</a>"
        ),
        "{embed}"
    );

    crate::admin::login_admin(&app).await;
    for (page, action) in [
        (
            "/admin/questions",
            format!("/admin/questions/{hidden}/hide"),
        ),
        ("/admin/users", format!("/admin/users/{uid}/ban")),
    ] {
        let s = crate::admin::moderate(&app, page, &action, &[("reason", "testing the log")]).await;
        assert_eq!(s, Status::SeeOther, "{action}");
    }
    let (_, audit) = app.get("/admin/audit").await;
    // Who: the moderator, linked to their row among the users.
    assert!(
        audit.contains("<a href=\"/admin/users?q=boss\">@boss</a>"),
        "{audit}"
    );
    // Targets by title and name, linked.
    assert!(
        audit.contains(&format!(
            "<a href=\"/q/{hidden}\">Is this one worth hiding?</a>"
        )),
        "{audit}"
    );
    assert!(
        audit.contains(&format!(
            "<a href=\"/admin/users?q=mallory#user-{uid}\">@mallory</a>"
        )),
        "{audit}"
    );
    assert!(!audit.contains(&format!("question {hidden}")));
    assert!(!audit.contains(&format!("user {uid}")));
    let (_, users) = app.get("/admin/users?q=mallory").await;
    assert!(
        users.contains(&format!("id=\"user-{uid}\"")),
        "the link finds the row"
    );

    // The reports' build time is a time the browser can show in its zone.
    let mut built = None;
    for _ in 0..100 {
        let (_, page) = app.get("/admin/reports?window=day").await;
        if !page.contains("being prepared") {
            built = Some(page);
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let page = built.expect("the report is built within 5 s");
    assert!(page.contains("Built <time datetime=\""), "{page}");
}

async fn first_visits_and_new_accounts_are_welcomed(b: Backend) {
    let app = TestApp::new(b).await;
    let (_, home) = app.get("/").await;
    assert!(home.contains("Beebeta is a public opinion poll anyone can answer."));
    assert!(home.contains("href=\"/ask\""), "Ask, for everyone");
    // Anonymous: /ask goes through log in and back to the form.
    let r = app.client.get("/ask").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/login?next=%2Fask"));
    drop(r);

    // A new account lands on a welcome page that leads back to where sign-up started.
    let (_, page) = app.get("/signup?next=/tags").await;
    let token = crate::helpers::extract_csrf(&page).unwrap();
    let before = app.state().mailer.outbox().len();
    let r = app
        .client
        .post("/signup")
        .header(ContentType::Form)
        .body(form_body(&[
            ("csrf_token", &token),
            ("username", "wendy"),
            ("email", "wendy@example.com"),
            ("password", PASSWORD),
            ("next", "/tags"),
        ]))
        .dispatch()
        .await;
    assert_eq!(r.headers().get_one("Location"), Some("/signup/sent"));
    drop(r);
    let (_, sent) = app.get("/signup/sent").await;
    assert!(sent.contains("Check your inbox"));
    let link = app.signup_link("wendy@example.com", before).unwrap();
    let (s, to) = app.finish_signup_to(&link).await;
    assert_eq!(s, Status::SeeOther);
    assert_eq!(to.as_deref(), Some("/welcome?next=%2Ftags"));
    let (s, welcome) = app.get("/welcome?next=%2Ftags").await;
    assert_eq!(s, Status::Ok);
    assert!(welcome.contains("Welcome to Beebeta, @wendy"));
    assert!(welcome.contains("href=\"/tags\">Continue where you were"));
    // Logged in, the home page no longer explains the site.
    let (_, home) = app.get("/").await;
    assert!(!home.contains("Beebeta is a public opinion poll anyone can answer."));
    // Author names link to their profiles.
    let uid = app.user_id("wendy").await;
    let qid = app.question(question("Who asked this one?")).await;
    app.set_author(qid, uid).await;
    let (_, page) = app.get(&app.path(qid).await).await;
    assert!(page.contains("<a class=\"author\" href=\"/u/wendy\">@wendy</a>"));
    let (_, list) = app.get("/new").await;
    assert!(list.contains("<a class=\"author\" href=\"/u/wendy\">@wendy</a>"));
}

async fn results_and_sessions_are_worded_for_people(b: Backend) {
    let app = TestApp::new(b).await;
    // Multiple choice: voters and choices picked are told apart.
    let qid = app
        .question(question("Which fruits do you like?").multiple(1, 3))
        .await;
    let choices = app.choices(qid).await;
    let token = app.csrf_from_page(qid).await;
    let r = app.post_vote(qid, &choices[..2], &token).await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, page) = app.get(&app.path(qid).await).await;
    assert!(
        page.contains("1 voter picked 2 choices in all. Each voter may pick up to 3"),
        "{page}"
    );
    // A closed question shows its results, not a form that cannot be used.
    let closed = app.question(question("Was it worth it?").closed()).await;
    let (_, page) = app.get(&app.path(closed).await).await;
    assert!(page.contains("Voting is closed"));
    assert!(!page.contains("class=\"vote-form\""), "no disabled form");
    assert!(page.contains("class=\"result-list\""));

    // Sessions read as a browser on a system.
    app.signup("sid", "sid@example.com", PASSWORD).await;
    app.logout().await;
    let (_, login) = app.get("/login").await;
    let token = crate::helpers::extract_csrf(&login).unwrap();
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let r = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .header(Header::new("User-Agent", firefox))
        .body(form_body(&[
            ("csrf_token", &token),
            ("username", "sid"),
            ("password", PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, settings) = app.get("/settings").await;
    assert!(settings.contains("Firefox on Linux"), "{settings}");
}

async fn month_totals(app: &TestApp) -> beebeta::services::reports::Totals {
    let range = beebeta::domain::report::ReportRange::window(
        beebeta::domain::report::ReportWindow::Month,
        beebeta::models::now(),
    );
    app.db
        .run(move |c| beebeta::services::reports::build(c, &range))
        .await
        .unwrap()
        .totals()
}

async fn seed(app: &TestApp) {
    let db = app.db.clone();
    rocket::tokio::task::spawn_blocking(move || beebeta::services::demo::seed_demo(&db))
        .await
        .unwrap()
        .unwrap();
}

async fn a_fresh_install_reports_its_demo_activity(b: Backend) {
    // A fresh install: the demo's votes, views and questions reach the reports.
    let app = TestApp::new(b).await;
    seed(&app).await;
    let t = month_totals(&app).await;
    assert!(t.votes > 100, "{t:?}");
    assert!(
        t.page_views >= t.votes * 3,
        "three views a vote at least: {t:?}"
    );
    assert!(t.questions_asked > 10, "{t:?}");
    // Rollups that hold real traffic are left as they are.
    let app = TestApp::new(b).await;
    app.db
        .write(|c| {
            Ok(beebeta::models::report::insert_site_hour(
                c,
                &beebeta::models::report::SiteHour {
                    hour: beebeta::models::rollup::hour_of(beebeta::models::now()),
                    page_views: 777,
                    ..Default::default()
                },
            )?)
        })
        .await
        .unwrap();
    seed(&app).await;
    let t = month_totals(&app).await;
    assert_eq!((t.page_views, t.votes), (777, 0), "{t:?}");
}

async fn each_question_has_a_page_of_numbers(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("How many views became votes?").age_days(3))
        .await;
    let now = beebeta::models::now();
    for (days_ago, views, votes) in [(2, 40, 10), (1, 60, 5)] {
        let at = now - chrono::Duration::days(days_ago);
        app.db
            .write(move |c| {
                Ok(beebeta::models::report::insert_question(
                    c, at, qid, views, votes,
                )?)
            })
            .await
            .unwrap();
    }
    crate::admin::login_admin(&app).await;
    let (s, page) = app.get(&format!("/admin/questions/{qid}")).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("How many views became votes?"));
    assert!(page.contains("<dt>Views</dt><dd>100</dd>"), "{page}");
    assert!(page.contains("<dt>Votes</dt><dd>15</dd>"));
    assert!(page.contains("<dd>15.0%</dd>"), "views to votes");
    assert!(
        page.contains("<td>40</td><td>10</td><td>25.0%</td>"),
        "a day's row"
    );
    assert!(page.contains("role=\"img\""), "the chart");
    assert!(page.contains("Since it was asked (4 days)"), "{page}");
    // Linked from the moderation list; unknown and malformed ids are 404s.
    let (_, list) = app.get("/admin/questions").await;
    assert!(list.contains(&format!("href=\"/admin/questions/{qid}\">numbers")));
    assert_eq!(app.get("/admin/questions/999999").await.0, Status::NotFound);
    assert_eq!(app.get("/admin/questions/abc").await.0, Status::NotFound);
}

async fn reports_have_an_all_time_window(b: Backend) {
    let app = TestApp::new(b).await;
    let now = beebeta::models::now();
    let hour = beebeta::models::rollup::hour_of(now);
    for (days_ago, votes) in [(100, 7), (0, 5)] {
        app.db
            .write(move |c| {
                Ok(beebeta::models::report::insert_site_hour(
                    c,
                    &beebeta::models::report::SiteHour {
                        hour: hour - chrono::Duration::days(days_ago),
                        votes,
                        ..Default::default()
                    },
                )?)
            })
            .await
            .unwrap();
    }
    crate::admin::login_admin(&app).await;
    let (s, page) = app.get("/admin/reports?window=all").await;
    assert_eq!(s, Status::Ok);
    // From the first day with data, not two years back; both votes counted.
    let first = (now - chrono::Duration::days(100)).date();
    assert!(
        page.contains(&format!("{first} to {}", now.date())),
        "{page}"
    );
    assert!(
        page.contains("<dt>Votes</dt>\n        <dd>12</dd>"),
        "{page}"
    );
    assert!(page.contains("aria-current=\"page\">All time</a>"));
    // The 30 days leave the older day out.
    let (_, month) = app.get("/admin/reports?window=month").await;
    assert!(month.contains("<dt>Votes</dt>\n        <dd>5</dd>"));
}
