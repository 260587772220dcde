//! Dashboard and reports from builder-inserted rollups; CSV exports; bad report input.

use beebeta::models::report::{self, SiteHour};
use beebeta::services::reports;
use chrono::Duration;
use rocket::http::{ContentType, Status};

use super::{at, login_admin, question_stats, site_hour, tag_id, this_hour};
use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    dashboard_compares_periods_of_the_same_length,
    dashboard_page_shows_todays_totals,
    reports_rank_questions_and_tags_and_export_csv,
    reports_refuse_bad_input,
    a_report_still_being_built_is_a_page_that_refreshes_itself,
    standard_windows_are_rebuilt_in_the_background,
);

async fn dashboard_compares_periods_of_the_same_length(b: Backend) {
    let app = TestApp::new(b).await;
    let rows = [
        ("2026-06-10 05:00:00", 30, 10, 2),
        ("2026-06-09 20:00:00", 20, 0, 2),
        ("2026-06-09 05:00:00", 1000, 0, 0),
        ("2026-06-01 10:00:00", 2100, 0, 0),
    ];
    for (hour, page_views, votes, signups) in rows {
        site_hour(
            &app,
            SiteHour {
                hour: at(hour),
                page_views,
                votes,
                signups,
                ..SiteHour::default()
            },
        )
        .await;
    }
    // The dashboard's columns are the standard windows' reports, built at 12:30: each against
    // the period of the same length (the part that has passed) just before.
    let now = at("2026-06-10 12:30:00");
    let mut periods = Vec::new();
    for w in reports::WINDOWS {
        let range = beebeta::domain::report::ReportRange::window(w, now);
        let report = app
            .db
            .run(move |c| reports::build_at(c, &range, now))
            .await
            .unwrap();
        let built = reports::Built {
            built_at: now,
            report,
        };
        periods.push(reports::Period::of(w, Some(&built)));
    }
    let figure = |p: usize, name: &str| {
        let m = periods[p].metrics.iter().find(|m| m.name == name).unwrap();
        (m.current, m.previous, m.change.clone())
    };
    // 24 hours: from 13:00 yesterday; before: the 23.5 hours up to then.
    assert_eq!(periods[0].label, "24 hours");
    assert_eq!(figure(0, "Page views"), (50, 1000, "-95%".into()));
    assert_eq!(figure(0, "Votes"), (10, 0, "new".into()));
    assert_eq!(figure(0, "Sign-ups"), (4, 0, "new".into()));
    assert_eq!(figure(1, "Page views"), (1050, 2100, "-50%".into()));
    assert_eq!(figure(2, "Page views"), (3150, 0, "new".into()));
    assert_eq!(figure(2, "Logins"), (0, 0, "0%".into()));
}

async fn dashboard_page_shows_todays_totals(b: Backend) {
    let app = TestApp::new(b).await;
    site_hour(
        &app,
        SiteHour {
            hour: this_hour(),
            page_views: 424242,
            questions_asked: 7,
            ..SiteHour::default()
        },
    )
    .await;
    login_admin(&app).await;
    let (s, body) = app.get("/admin").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Last 24 hours"));
    assert_eq!(body.matches("424242").count(), 3, "24 hours, 7 and 30 days");
    // The report shows the same figure, from the same build.
    let (_, report) = app.get("/admin/reports?window=week").await;
    assert!(
        report.contains("<dd>424242</dd>"),
        "the week's total page views"
    );
    assert!(body.contains(">new</dd>"), "no page views before");
}

async fn reports_rank_questions_and_tags_and_export_csv(b: Backend) {
    let app = TestApp::new(b).await;
    let a = app
        .question(question("Alpha question?").tags(&["red"]))
        .await;
    let bq = app
        .question(question("=HYPERLINK(\"x\"), beta").tags(&["blue"]))
        .await;
    let c = app
        .question(question("Gamma question?").tags(&["red"]))
        .await;
    let now = this_hour();
    question_stats(&app, now, a, 5, 50).await;
    question_stats(&app, now, bq, 90, 30).await;
    question_stats(&app, now - Duration::days(10), c, 1, 99).await;
    let day = now.date().and_hms_opt(0, 0, 0).unwrap();
    let (red, blue) = (tag_id(&app, "red").await, tag_id(&app, "blue").await);
    for (tag, views, votes) in [(red, 5, 50), (blue, 90, 30)] {
        app.db
            .write(move |c| Ok(report::insert_tag_day(c, day, tag, views, votes)?))
            .await
            .unwrap();
    }
    site_hour(
        &app,
        SiteHour {
            hour: now,
            page_views: 95,
            votes: 80,
            signups: 3,
            ..SiteHour::default()
        },
    )
    .await;
    login_admin(&app).await;

    let (s, page) = app.get("/admin/reports?window=week").await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("Alpha question?") && !page.contains("Gamma question?"),
        "only the week's questions"
    );
    assert_eq!(
        page.matches("role=\"img\"").count(),
        3,
        "two line charts and a heatmap"
    );
    assert!(page.contains("<title id=\"traffic-t\">Votes and page views per day</title>"));
    assert!(page.contains("<details>"), "data tables behind the charts");

    let (s, ct, cd, body) = csv(&app, "window=week&format=csv&table=questions_by_votes").await;
    assert_eq!(s, Status::Ok);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(
        cd.starts_with("attachment; filename=\"beebeta-questions_by_votes-"),
        "{cd}"
    );
    assert_eq!(
        body,
        format!(
            "rank,question_id,title,votes,views,hidden,ranked_winner\r\n\
             1,{a},Alpha question?,50,5,no,\r\n\
             2,{bq},\"'=HYPERLINK(\"\"x\"\"), beta\",30,90,no,\r\n"
        )
    );
    let (_, _, _, body) = csv(&app, "window=day&format=csv&table=questions_by_views").await;
    let ids: Vec<&str> = body
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(
        ids,
        [bq.to_string(), a.to_string()],
        "24 h from the hourly rollup, by views"
    );
    let (_, _, _, body) = csv(&app, "window=month&format=csv&table=questions_by_votes").await;
    assert!(
        body.lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("1,{c},Gamma question?,99,"))
    );
    let (_, _, _, body) = csv(&app, "window=week&format=csv&table=tags_by_votes").await;
    assert_eq!(
        body,
        format!("rank,tag_id,tag,votes,views\r\n1,{red},red,50,5\r\n2,{blue},blue,30,90\r\n")
    );
    let (_, _, _, body) = csv(&app, "window=week&format=csv&table=activity").await;
    assert_eq!(body.lines().count(), 8, "header and 7 days");
    assert!(body.contains(&format!("{} 00:00,95,80,3,0", now.date())));
    let (_, _, _, body) = csv(&app, "window=week&format=csv&table=heatmap").await;
    assert_eq!(body.lines().count(), 1 + 7 * 24);
    // A custom range: only the day ten days ago.
    let d = (now - Duration::days(10)).date();
    let (_, _, _, body) = csv(
        &app,
        &format!("from={d}&to={d}&format=csv&table=questions_by_votes"),
    )
    .await;
    assert_eq!(body.lines().count(), 2);
    assert!(body.contains("Gamma question?"));
    // A valid range without data: the header only.
    let (s, _, _, body) = csv(
        &app,
        "from=2020-01-01&to=2020-01-31&format=csv&table=tags_by_views",
    )
    .await;
    assert_eq!(
        (s, body.as_str()),
        (Status::Ok, "rank,tag_id,tag,votes,views\r\n")
    );
}

async fn reports_refuse_bad_input(b: Backend) {
    let app = TestApp::new(b).await;
    login_admin(&app).await;
    let today = beebeta::models::now().date();
    let future = today + Duration::days(3);
    let cases = [
        (
            "from=2026-03-10&to=2026-03-01".to_string(),
            "ends (2026-03-01) before it starts",
        ),
        (format!("from={today}&to={future}"), "in the future"),
        (
            "from=2020-01-01&to=2026-01-01".to_string(),
            "longer than two years",
        ),
        ("window=year".to_string(), "Unknown report window"),
        ("from=2026-02-30&to=2026-03-01".to_string(), "is not a date"),
        ("from=yesterday&to=2026-03-01".to_string(), "is not a date"),
        ("from=&to=".to_string(), "Give both dates"),
        ("from=2026-03-01".to_string(), "Give both dates"),
        (
            "window=week&from=2026-03-01&to=2026-03-02".to_string(),
            "not both",
        ),
    ];
    for (query, message) in &cases {
        // The page stays in the admin area: the last 7 days, the problem said at the form.
        let (s, body) = app.get(&format!("/admin/reports?{query}")).await;
        assert_eq!(s, Status::UnprocessableEntity, "{query}");
        assert!(body.contains(message), "{query}: {body}");
        assert!(
            body.contains("id=\"range-error\""),
            "{query}: said at the form"
        );
        assert!(body.contains("Showing the last 7 days instead"), "{query}");
        assert!(
            body.contains("id=\"reports-title\""),
            "{query}: the reports page"
        );
        let r = app
            .client
            .get(format!("/admin/reports?{query}&format=csv&table=activity"))
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::BadRequest, "csv {query}");
        assert_eq!(r.content_type(), Some(ContentType::Text), "csv {query}");
        let text = r.into_string().await.unwrap();
        assert!(text.contains(message), "csv {query}: {text}");
    }
    let r = app
        .client
        .get("/admin/reports?window=week&format=csv&table=secrets")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::BadRequest);
    assert!(r.into_string().await.unwrap().contains("table=activity"));
    let (s, _) = app.get("/admin/reports?window=week&format=xlsx").await;
    assert_eq!(s, Status::BadRequest);
}

/// GETs `/admin/reports?<q>`: (status, content type, content disposition, body).
async fn csv(app: &TestApp, q: &str) -> (Status, String, String, String) {
    let r = app
        .client
        .get(format!("/admin/reports?{q}"))
        .dispatch()
        .await;
    let status = r.status();
    let ct = r.content_type().map(|c| c.to_string()).unwrap_or_default();
    let cd = r
        .headers()
        .get_one("Content-Disposition")
        .unwrap_or("")
        .to_string();
    (status, ct, cd, r.into_string().await.unwrap_or_default())
}

async fn a_report_still_being_built_is_a_page_that_refreshes_itself(b: Backend) {
    // No wait at all: a request never sees a report it did not find already built.
    let app = TestApp::with(b, |f| f.merge(("report_wait_ms", 0))).await;
    let q = app.question(question("Slow range question?")).await;
    let day = this_hour() - Duration::days(3);
    question_stats(&app, day, q, 7, 70).await;
    login_admin(&app).await;
    let from = (day.date() - Duration::days(1)).to_string();
    let to = day.date().to_string();
    let path = format!("/admin/reports?from={from}&to={to}");

    let r = app.client.get(path.clone()).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.headers().get_one("Retry-After"), Some("2"));
    assert_eq!(r.headers().get_one("Cache-Control"), Some("no-store"));
    let page = r.into_string().await.unwrap();
    assert!(page.contains("being prepared"), "{page}");
    assert!(page.contains(r#"<meta http-equiv="refresh" content="2">"#));
    assert!(!page.contains("Slow range question?"));

    // The build goes on without the request; the page shows the report once it is done.
    let mut shown = None;
    for _ in 0..100 {
        let (s, page) = app.get(&path).await;
        assert_eq!(s, Status::Ok);
        if !page.contains("being prepared") {
            shown = Some(page);
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let page = shown.expect("the report is built within 5 s");
    assert!(page.contains("Slow range question?"), "{page}");
    assert!(page.contains("Built "));

    // A CSV of a range nobody has built yet: 503 with Retry-After, then the file.
    let csv_path = format!("/admin/reports?from={to}&to={to}&format=csv&table=questions_by_votes");
    let (s, ct, _, body) = csv(&app, &csv_path["/admin/reports?".len()..]).await;
    assert_eq!(s, Status::ServiceUnavailable, "{body}");
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(body.contains("being prepared"));
    let mut file = None;
    for _ in 0..100 {
        let (s, _, _, body) = csv(&app, &csv_path["/admin/reports?".len()..]).await;
        if s == Status::Ok {
            file = Some(body);
            break;
        }
        assert_eq!(s, Status::ServiceUnavailable);
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let file = file.expect("the CSV is ready within 5 s");
    assert!(file.contains("Slow range question?"), "{file}");
}

async fn standard_windows_are_rebuilt_in_the_background(b: Backend) {
    let app = TestApp::with(b, |f| {
        f.merge(("report_refresh_secs", 1))
            .merge(("report_wait_ms", 0))
    })
    .await;
    let q = app.question(question("Background window question?")).await;
    question_stats(&app, this_hour(), q, 3, 30).await;
    login_admin(&app).await;
    // Without any request for it, the 30-day window is rebuilt within a round or two and
    // stored in the shared cache; the page then serves it at once, although a request would
    // not wait for a build (report_wait_ms = 0).
    let cache = &app.state().cache;
    let mut stored = false;
    for _ in 0..50 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let built = cache.get_json::<reports::Built>("report:window:month");
        if built.is_some_and(|b| b.report.questions_by_votes.iter().any(|t| t.id == q)) {
            stored = true;
            break;
        }
    }
    assert!(
        stored,
        "the background refresh stored the month with the question"
    );
    let (s, page) = app.get("/admin/reports?window=month").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Background window question?"), "{page}");
}
