//! Open results (`/q/<id>/results.csv`, `/q/<id>/results.json`), the QR code (`/q/<id>/qr.svg`)
//! and the share links of the question page.

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, json_of, question};

backend_tests!(
    downloads_match_the_api_after_votes,
    csv_quotes_and_neutralises_formulas,
    visibility_matches_the_api,
    hidden_deleted_and_unknown_questions_are_404,
    qr_code_encodes_the_canonical_url,
    share_links_on_the_question_page,
);

const PUBLIC: &str = "http://beebeta.test";

/// Votes `choices` on `id` as a new anonymous voter.
async fn vote_as_stranger(app: &TestApp, id: i64, choices: &[i64]) {
    let list: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
    let r = app
        .client
        .put(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(format!("{{\"choices\":[{}]}}", list.join(",")))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
}

/// The API's results for the tracked browser: (status, body).
async fn api_results(app: &TestApp, id: i64) -> (Status, serde_json::Value) {
    json_of(
        app.client
            .get(format!("/api/v1/questions/{id}/results"))
            .dispatch()
            .await,
    )
    .await
}

/// The JSON download for the tracked browser: (status, content type, body).
async fn json_download(app: &TestApp, id: i64) -> (Status, String, serde_json::Value) {
    let r = app
        .client
        .get(format!("/q/{id}/results.json"))
        .dispatch()
        .await;
    let ct = content_type(&r);
    let (s, v) = json_of(r).await;
    (s, ct, v)
}

/// The CSV download for the tracked browser: (status, content type, disposition, body).
async fn csv_download(app: &TestApp, id: i64) -> (Status, String, Option<String>, String) {
    let r = app
        .client
        .get(format!("/q/{id}/results.csv"))
        .dispatch()
        .await;
    let ct = content_type(&r);
    let disposition = r
        .headers()
        .get_one("Content-Disposition")
        .map(str::to_string);
    let s = r.status();
    (
        s,
        ct,
        disposition,
        r.into_string().await.unwrap_or_default(),
    )
}

fn content_type(r: &LocalResponse<'_>) -> String {
    r.headers()
        .get_one("Content-Type")
        .unwrap_or_default()
        .to_string()
}

/// Splits RFC 4180 text into records of cells (quoted cells may hold commas, quotes, line
/// breaks); checks every record ends with CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => {
                assert!(cell.is_empty(), "a quote opens a cell only at its start");
                quoted = true;
            }
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && record.is_empty(),
        "ends with CRLF"
    );
    records
}

const HEADER: [&str; 9] = [
    "question_id",
    "choice_id",
    "choice",
    "votes",
    "percent",
    "voters",
    "choices_picked",
    "closed",
    "generated_at",
];

async fn downloads_match_the_api_after_votes(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(
            question("Which drinks do you like?")
                .multiple(1, 2)
                .choices(&["Tea", "Coffee", "Water"]),
        )
        .await;
    let c = app.choices(id).await;
    vote_as_stranger(&app, id, &[c[0], c[1]]).await;
    vote_as_stranger(&app, id, &[c[0]]).await;
    // The tracked browser votes last: its reads within the next seconds count from the database,
    // so the API and the downloads below read the same counts.
    let (s, _) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[2]))
        .await;
    assert_eq!(s, Status::Ok);

    let (s, api) = api_results(&app, id).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(api["total"], 3);

    let (s, ct, v) = json_download(&app, id).await;
    assert_eq!(s, Status::Ok);
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(v["question"]["id"], id);
    assert_eq!(v["question"]["title"], "Which drinks do you like?");
    assert_eq!(
        v["question"]["url"],
        format!("{PUBLIC}{}", app.path(id).await)
    );
    assert_eq!(v["question"]["kind"], "multiple");
    assert_eq!(v["closed"], false);
    assert_eq!(v["total"]["voters"], api["total"]);
    assert_eq!(v["total"]["choices_picked"], 4, "2 + 1 + 1 choices picked");
    let generated = v["generated_at"].as_str().unwrap();
    assert!(generated.ends_with('Z'), "UTC: {generated}");
    let at = chrono::DateTime::parse_from_rfc3339(generated).expect("RFC 3339");
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds().abs() < 60);
    let labels = ["Tea", "Coffee", "Water"];
    for i in 0..3 {
        let (mine, theirs) = (&v["choices"][i], &api["choices"][i]);
        assert_eq!(mine["id"], theirs["id"]);
        assert_eq!(mine["label"], labels[i]);
        assert_eq!(mine["votes"], theirs["votes"], "choice {i}");
        assert_eq!(mine["percent"], theirs["percent"], "choice {i}");
    }
    assert_eq!(v["choices"][0]["votes"], 2);
    assert_eq!(v["choices"][0]["percent"], 66.7);

    let (s, ct, disposition, body) = csv_download(&app, id).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(
        disposition.as_deref(),
        Some(format!("attachment; filename=\"beebeta-{id}-results.csv\"").as_str())
    );
    let rows = parse_csv(&body);
    assert_eq!(rows[0], HEADER);
    assert_eq!(rows.len(), 4, "a header and one row per choice");
    for (i, row) in rows[1..].iter().enumerate() {
        let theirs = &api["choices"][i];
        assert_eq!(row[0], id.to_string());
        assert_eq!(row[1], theirs["id"].to_string());
        assert_eq!(row[2], labels[i]);
        assert_eq!(row[3], theirs["votes"].to_string());
        assert_eq!(
            row[4],
            format!("{:.1}", theirs["percent"].as_f64().unwrap())
        );
        assert_eq!(row[5], "3");
        assert_eq!(row[6], "4");
        assert_eq!(row[7], "false");
        assert_eq!(row[8], generated);
    }

    // The results box links both files.
    let (_, page) = app.get(&app.path(id).await).await;
    assert!(page.contains(&format!("href=\"/q/{id}/results.csv\"")));
    assert!(page.contains(&format!("href=\"/q/{id}/results.json\"")));
}

async fn csv_quotes_and_neutralises_formulas(b: Backend) {
    let app = TestApp::new(b).await;
    let labels = [
        "=HYPERLINK(\"http://evil.example\")",
        "Tea, with milk",
        "Say \"hi\"",
        "@home",
        "-5 degrees",
        "+plus",
    ];
    let id = app
        .question(question("Quoting, \"escaping\" and formulas?").choices(&labels))
        .await;
    let c = app.choices(id).await;
    vote_as_stranger(&app, id, &[c[1]]).await;

    let (s, _, _, body) = csv_download(&app, id).await;
    assert_eq!(s, Status::Ok);
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert!(lines[1].contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")\","));
    assert!(lines[2].contains(",\"Tea, with milk\","));
    assert!(lines[3].contains(",\"Say \"\"hi\"\"\","));
    assert!(lines[4].contains(",'@home,"));
    assert!(lines[5].contains(",'-5 degrees,"));
    assert!(lines[6].contains(",'+plus,"));
    let rows = parse_csv(&body);
    let cells: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        cells,
        [
            "'=HYPERLINK(\"http://evil.example\")",
            "Tea, with milk",
            "Say \"hi\"",
            "'@home",
            "'-5 degrees",
            "'+plus"
        ]
    );
    assert!(
        rows.iter().all(|r| r.len() == HEADER.len()),
        "every record has every column"
    );
    assert_eq!(rows[2][3], "1");
    assert_eq!(rows[2][4], "100.0");
    assert_eq!(
        rows[2][6], "",
        "no choices_picked for a single-choice question"
    );

    // The JSON keeps the labels as they are.
    let (_, _, v) = json_download(&app, id).await;
    for (i, label) in labels.iter().enumerate() {
        assert_eq!(v["choices"][i]["label"], *label);
    }
    assert!(v["total"].get("choices_picked").is_none());
}

/// What the API's results endpoint and both downloads answer the tracked browser; they must
/// agree. Returns whether results are visible.
async fn agree(app: &TestApp, id: i64, why: &str) -> bool {
    let (api, api_body) = api_results(app, id).await;
    let (json, _, json_body) = json_download(app, id).await;
    let (csv, ct, _, csv_body) = csv_download(app, id).await;
    assert_eq!(json, api, "{why}: JSON download and API");
    assert_eq!(csv, api, "{why}: CSV download and API");
    match api {
        Status::Ok => {
            assert_eq!(json_body["total"]["voters"], api_body["total"], "{why}");
            true
        }
        Status::Forbidden => {
            assert_eq!(json_body["error"]["code"], "results_hidden", "{why}");
            assert_eq!(
                json_body["error"]["message"], api_body["error"]["message"],
                "{why}"
            );
            assert!(ct.starts_with("text/plain"), "{why}: {ct}");
            assert_eq!(
                csv_body.trim_end(),
                api_body["error"]["message"].as_str().unwrap(),
                "{why}: a short plain message"
            );
            false
        }
        other => panic!("{why}: unexpected {other}"),
    }
}

async fn visibility_matches_the_api(b: Backend) {
    let app = TestApp::new(b).await;
    let always = app.question(question("Always shown?")).await;
    let after_vote = app
        .question(question("Shown after voting?").visibility("after_vote"))
        .await;
    let after_close = app
        .question(question("Shown after closing?").visibility("after_close"))
        .await;
    let closed_unvoted = app
        .question(
            question("Closed before anyone voted?")
                .visibility("after_vote")
                .closed(),
        )
        .await;

    assert!(agree(&app, always, "always, not voted").await);
    assert!(!agree(&app, after_vote, "after_vote, not voted").await);
    assert!(!agree(&app, after_close, "after_close, not voted").await);
    assert!(
        agree(&app, closed_unvoted, "after_vote, closed, not voted").await,
        "closed questions show their final results"
    );

    for id in [after_vote, after_close] {
        let c = app.choices(id).await;
        let (s, _) = app
            .api_vote(id, &format!("{{\"choices\":[{}]}}", c[0]))
            .await;
        assert_eq!(s, Status::Ok);
    }
    assert!(agree(&app, after_vote, "after_vote, voted").await);
    assert!(!agree(&app, after_close, "after_close, voted").await);
    // Another visitor has not voted: still hidden for them (their own cookie counts).
    let r = app
        .client
        .get(format!("/q/{after_vote}/results.json"))
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);

    // Closed by its author: the final results are public.
    app.create_admin("author", "author@example.com", "a long enough password 1")
        .await
        .unwrap();
    let uid = app.user_id("author").await;
    app.set_author(after_close, uid).await;
    let state = app.state();
    beebeta::services::asking::close(&state.db, &state.cache, after_close, uid)
        .await
        .unwrap();
    assert!(agree(&app, after_close, "after_close, closed").await);
    let (_, _, v) = json_download(&app, after_close).await;
    assert_eq!(v["closed"], true);
    let r = app
        .client
        .get(format!("/q/{after_close}/results.csv"))
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok, "closed: visible to everyone");

    // The results box links the files only where results show.
    let (_, page) = app.get(&app.path(after_close).await).await;
    assert!(page.contains(&format!("/q/{after_close}/results.csv")));
    let hidden = app
        .question(question("Still hidden?").visibility("after_close"))
        .await;
    let (_, page) = app.get(&app.path(hidden).await).await;
    assert!(!page.contains(&format!("/q/{hidden}/results.csv")));
}

async fn hidden_deleted_and_unknown_questions_are_404(b: Backend) {
    let app = TestApp::new(b).await;
    let hidden = app.question(question("Hidden by a moderator?")).await;
    let deleted = app.question(question("Deleted by its author?")).await;
    for id in [hidden, deleted] {
        for file in ["results.csv", "results.json", "qr.svg"] {
            let (s, _) = app.get(&format!("/q/{id}/{file}")).await;
            assert_eq!(s, Status::Ok, "{file} before");
        }
    }
    app.create_admin("mod", "mod@example.com", "a long enough password 1")
        .await
        .unwrap();
    let uid = app.user_id("mod").await;
    let state = app.state();
    let reason = beebeta::domain::report::ModerationReason::parse("spam").unwrap();
    beebeta::services::moderation::set_question_hidden(
        &state.db,
        &state.cache,
        uid,
        hidden,
        true,
        reason,
    )
    .await
    .unwrap();
    app.set_author(deleted, uid).await;
    beebeta::services::asking::delete(&state.db, &state.cache, deleted, uid)
        .await
        .unwrap();
    for id in [hidden, deleted, 999_999] {
        for file in ["results.csv", "results.json", "qr.svg"] {
            let (s, _) = app.get(&format!("/q/{id}/{file}")).await;
            assert_eq!(s, Status::NotFound, "/q/{id}/{file}");
        }
        let (_, _, v) = json_download(&app, id).await;
        assert_eq!(v["error"]["code"], "not_found", "JSON errors are JSON");
    }
    for bad in ["/q/abc/results.csv", "/q/0/results.json", "/q/-1/qr.svg"] {
        assert_eq!(app.get(bad).await.0, Status::NotFound, "{bad}");
    }
}

async fn qr_code_encodes_the_canonical_url(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Scan me, please?")).await;
    let url = format!("{PUBLIC}{}", app.path(id).await);
    let r = app.client.get(format!("/q/{id}/qr.svg")).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(content_type(&r), "image/svg+xml");
    let cache = r.headers().get_one("Cache-Control").unwrap().to_string();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    assert!(
        r.headers().get_one("Set-Cookie").is_none(),
        "a public response sets no cookie"
    );
    let svg = r.into_string().await.unwrap();
    assert!(svg.contains("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    let expected = qrcode::QrCode::new(url.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    assert_eq!(svg, expected, "exactly the code of {url}");
    let other = qrcode::QrCode::new(format!("{url}x").as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    assert_ne!(svg, other, "another URL gives another code");
}

/// Undoes the HTML escaping Tera applies to attribute values.
fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
}

async fn share_links_on_the_question_page(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Tea & \"coffee\": which, and why?"))
        .await;
    let path = app.path(id).await;
    let (s, page) = app.get(&path).await;
    assert_eq!(s, Status::Ok);
    let share = &page[page.find("<div class=\"share\">").expect("share box")..];
    let share = &share[..share.find("</div>\n</article>").unwrap_or(share.len())];
    let links: Vec<(String, String)> = share
        .split("<a class=\"share-link\" href=\"")
        .skip(1)
        .map(|rest| {
            let href = unescape(&rest[..rest.find('"').unwrap()]);
            let tag_end = rest.find('>').unwrap();
            let text = rest[tag_end + 1..rest.find("</a>").unwrap()].to_string();
            let attrs = rest[..tag_end].to_string();
            if !href.starts_with("mailto:") && !href.starts_with('/') {
                assert!(attrs.contains("rel=\"noopener\""), "{text}: {attrs}");
                assert!(attrs.contains("target=\"_blank\""), "{text}: {attrs}");
            }
            (text, href)
        })
        .collect();
    let href = |name: &str| {
        links
            .iter()
            .find(|(t, _)| t == name)
            .unwrap_or_else(|| panic!("{name} link in {links:?}"))
            .1
            .clone()
    };
    let url = url::form_urlencoded::byte_serialize(format!("{PUBLIC}{path}").as_bytes())
        .collect::<String>();
    // byte_serialize writes spaces as `+`; the page writes them `%20` (mailto needs it).
    let u = url.replace('+', "%20");
    let t = "Tea%20%26%20%22coffee%22%3A%20which%2C%20and%20why%3F";
    assert_eq!(
        href("X"),
        format!("https://x.com/intent/tweet?url={u}&text={t}")
    );
    assert_eq!(
        href("Facebook"),
        format!("https://www.facebook.com/sharer/sharer.php?u={u}")
    );
    assert_eq!(
        href("Reddit"),
        format!("https://www.reddit.com/submit?url={u}&title={t}")
    );
    assert_eq!(
        href("LinkedIn"),
        format!("https://www.linkedin.com/sharing/share-offsite/?url={u}")
    );
    assert_eq!(href("WhatsApp"), format!("https://wa.me/?text={t}%20{u}"));
    assert_eq!(
        href("Telegram"),
        format!("https://t.me/share/url?url={u}&text={t}")
    );
    assert_eq!(
        href("Bluesky"),
        format!("https://bsky.app/intent/compose?text={t}%20{u}")
    );
    assert_eq!(href("Email"), format!("mailto:?subject={t}&body={u}"));
    assert_eq!(href("QR code"), format!("/q/{id}/qr.svg"));
    // Every parameter decodes back to the URL and the title.
    let x = url::Url::parse(&href("X")).unwrap();
    let pairs: Vec<(String, String)> = x.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("url".to_string(), format!("{PUBLIC}{path}")),
            (
                "text".to_string(),
                "Tea & \"coffee\": which, and why?".to_string()
            )
        ]
    );
    assert!(
        !page.contains("<script src=\"http"),
        "no third-party script"
    );
}
