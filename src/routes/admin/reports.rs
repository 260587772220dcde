//! `/admin/reports?window=day|week|month` or `?from=YYYY-MM-DD&to=YYYY-MM-DD`: top questions and
//! tags, activity charts, and every table as CSV with `format=csv&table=<name>`.

use rocket::http::{ContentType, Status};
use rocket::{FromForm, get};
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::domain::Invalid;
use crate::domain::report::{ReportRange, UNUSUAL_NETWORK_MIN, UNUSUAL_NETWORK_PERCENT};
use crate::error::{AppError, AppResult};
use crate::models::ranking::Winner;
use crate::models::report::{TopQuestion, TopTag};
use crate::routes::admin::charts::{self, Line};
use crate::routes::admin::csv::{self, CsvFile};
use crate::routes::viewer::Viewer;
use crate::routes::views::iso;
use crate::services::reports::{self as service, Lookup, Report};
use crate::state::AppState;

/// The CSV tables of a report.
pub const TABLES: [&str; 6] = [
    "questions_by_votes",
    "questions_by_views",
    "tags_by_votes",
    "tags_by_views",
    "activity",
    "heatmap",
];

/// A report page, a CSV file, or a CSV request's plain-text error.
#[derive(rocket::Responder)]
pub enum ReportResponse {
    /// The page.
    Page(Template),
    /// The page for the default window, with the refused range kept in its form (422).
    Refused((Status, Template)),
    /// A table as CSV.
    Csv(CsvFile),
    /// A refused CSV request (400 with a plain-text reason).
    Text((Status, (ContentType, String))),
    /// The report is still being built: a page that refreshes itself, or for CSV a 503 with
    /// `Retry-After`.
    Preparing(Preparing),
}

/// Seconds a client is asked to wait before asking again for a report being built.
pub const RETRY_SECS: u64 = 2;

/// The answer while a report is being built.
pub enum Preparing {
    /// The page (200, refreshes itself).
    Page(Box<Template>),
    /// A CSV request: 503 with `Retry-After`.
    Csv,
}

impl<'r> rocket::response::Responder<'r, 'static> for Preparing {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = match self {
            Preparing::Page(t) => t.respond_to(req)?,
            Preparing::Csv => {
                let msg = "The report is being prepared; try again in a few seconds.\n";
                let mut r = (ContentType::Text, msg).respond_to(req)?;
                r.set_status(Status::ServiceUnavailable);
                r
            }
        };
        res.set_raw_header("Retry-After", RETRY_SECS.to_string());
        res.set_raw_header("Cache-Control", "no-store");
        Ok(res)
    }
}

fn bucket_label(report: &Report, i: usize) -> String {
    let b = &report.series[i];
    if report.range.hourly {
        b.start.format("%H:00").to_string()
    } else {
        b.start.format("%m-%d").to_string()
    }
}

/// The rows of a top-questions table: rank, id, title, votes, views, hidden, and a ranked
/// question's winner ("Label (54.2 %)"; empty for other questions, or while tied).
fn question_rows(
    rows: &[TopQuestion],
    winners: &std::collections::HashMap<i64, Winner>,
) -> Vec<Vec<String>> {
    rows.iter()
        .enumerate()
        .map(|(i, q)| {
            vec![
                (i + 1).to_string(),
                q.id.to_string(),
                q.title.clone(),
                q.votes.to_string(),
                q.views.to_string(),
                if q.hidden_at.is_some() { "yes" } else { "no" }.to_string(),
                winners
                    .get(&q.id)
                    .map(|w| format!("{} ({} %)", w.label, w.percent))
                    .unwrap_or_default(),
            ]
        })
        .collect()
}

fn tag_rows(rows: &[TopTag]) -> Vec<Vec<String>> {
    rows.iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                (i + 1).to_string(),
                t.id.to_string(),
                t.name.clone(),
                t.votes.to_string(),
                t.views.to_string(),
            ]
        })
        .collect()
}

/// The rows of the activity table: bucket start, then its totals.
fn activity_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .series
        .iter()
        .map(|b| {
            let t = &b.totals;
            vec![
                b.start.format("%Y-%m-%d %H:%M").to_string(),
                t.page_views.to_string(),
                t.votes.to_string(),
                t.signups.to_string(),
                t.questions_asked.to_string(),
            ]
        })
        .collect()
}

const QUESTION_HEADER: [&str; 7] = [
    "rank",
    "question_id",
    "title",
    "votes",
    "views",
    "hidden",
    "ranked_winner",
];
const TAG_HEADER: [&str; 5] = ["rank", "tag_id", "tag", "votes", "views"];
const ACTIVITY_HEADER: [&str; 5] = [
    "start_utc",
    "page_views",
    "votes",
    "signups",
    "questions_asked",
];

fn csv_of(report: &Report, table: &str) -> Option<String> {
    Some(match table {
        "questions_by_votes" => csv::table(
            &QUESTION_HEADER,
            &question_rows(&report.questions_by_votes, &report.ranked_winners),
        ),
        "questions_by_views" => csv::table(
            &QUESTION_HEADER,
            &question_rows(&report.questions_by_views, &report.ranked_winners),
        ),
        "tags_by_votes" => csv::table(&TAG_HEADER, &tag_rows(&report.tags_by_votes)),
        "tags_by_views" => csv::table(&TAG_HEADER, &tag_rows(&report.tags_by_views)),
        "activity" => csv::table(&ACTIVITY_HEADER, &activity_rows(report)),
        "heatmap" => {
            let rows: Vec<Vec<String>> = report
                .heatmap
                .iter()
                .enumerate()
                .flat_map(|(d, row)| {
                    row.iter().enumerate().map(move |(h, v)| {
                        vec![
                            charts::WEEKDAYS[d].to_string(),
                            h.to_string(),
                            v.to_string(),
                        ]
                    })
                })
                .collect();
            csv::table(&["weekday", "hour_utc", "activity"], &rows)
        }
        _ => return None,
    })
}

fn text_error(message: impl Into<String>) -> ReportResponse {
    ReportResponse::Text((Status::BadRequest, (ContentType::Text, message.into())))
}

/// The query string of this report's range, for links (CSV, other windows).
fn range_query(range: &ReportRange) -> String {
    match range.window {
        Some(w) => format!("window={}", w.as_str()),
        None => format!("from={}&to={}", range.from_day(), range.to_day()),
    }
}

/// The report asked for: a standard `window` or a `from`/`to` range, as a page or as the CSV of
/// one `table`.
#[derive(Debug, FromForm)]
pub struct ReportQuery<'r> {
    window: Option<&'r str>,
    from: Option<&'r str>,
    to: Option<&'r str>,
    format: Option<&'r str>,
    table: Option<&'r str>,
}

#[get("/admin/reports?<query..>")]
pub async fn reports(
    app: &AppState,
    admin: AdminUser,
    viewer: Viewer,
    query: ReportQuery<'_>,
) -> AppResult<ReportResponse> {
    let _ = admin;
    let ReportQuery {
        window,
        from,
        to,
        format,
        table,
    } = query;
    let csv_wanted = match format.map(str::trim) {
        None | Some("") | Some("html") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_format",
                "Unknown format: use format=csv (or none for the page).",
            ));
        }
    };
    let now = crate::models::now();
    let range = ReportRange::parse(window, from, to, now);
    if csv_wanted {
        let range = match range {
            Ok(r) => r,
            Err(Invalid { message, .. }) => return Ok(text_error(message)),
        };
        let Some(table) = table.filter(|t| TABLES.contains(t)) else {
            return Ok(text_error(format!(
                "Choose a table: table={}.",
                TABLES.join(" | table=")
            )));
        };
        let built = match app.reports.get(range.clone(), now).await? {
            Lookup::Ready(b) => b,
            Lookup::Preparing => return Ok(ReportResponse::Preparing(Preparing::Csv)),
        };
        let report = &built.report;
        let body = csv_of(report, table).unwrap_or_default();
        return Ok(ReportResponse::Csv(CsvFile {
            filename: format!(
                "beebeta-{table}-{}-{}.csv",
                range.from_day(),
                range.to_day()
            ),
            body,
        }));
    }
    // A range the form should not have sent (a future end, from after to, a bad date): the
    // default window, with the problem said above the form and the dates kept in it.
    let (range, refused) = match range {
        Ok(r) => (r, None),
        Err(Invalid { message, .. }) => (
            ReportRange::parse(None, None, None, now)?,
            Some((message, from.unwrap_or(""), to.unwrap_or(""))),
        ),
    };
    let built = match app.reports.get(range.clone(), now).await? {
        Lookup::Ready(b) => b,
        Lookup::Preparing => {
            return Ok(ReportResponse::Preparing(Preparing::Page(Box::new(
                viewer.render(
                    "admin/preparing",
                    context! {
                        page_title: "Reports",
                        nav: "admin",
                        admin_nav: "reports",
                        from: range.from_day().to_string(),
                        to: range.to_day().to_string(),
                        window: range.window,
                        retry_secs: RETRY_SECS,
                    },
                ),
            ))));
        }
    };
    // A standard window is shown as last built (at most `report_cache_secs` ago).
    let report = &built.report;
    let range = report.range.clone();
    let labels: Vec<String> = (0..report.series.len())
        .map(|i| bucket_label(report, i))
        .collect();
    let per = if range.hourly { "hour" } else { "day" };
    let pick = |f: fn(&service::Totals) -> i64| -> Vec<i64> {
        report.series.iter().map(|b| f(&b.totals)).collect()
    };
    let traffic = charts::line_chart(
        "traffic",
        &format!("Votes and page views per {per}"),
        &labels,
        &[
            Line {
                name: "Votes",
                values: pick(|t| t.votes),
                colour: "#2563eb",
            },
            Line {
                name: "Page views",
                values: pick(|t| t.page_views),
                colour: "#f97316",
            },
        ],
    );
    let growth = charts::line_chart(
        "growth",
        &format!("Sign-ups and questions asked per {per}"),
        &labels,
        &[
            Line {
                name: "Sign-ups",
                values: pick(|t| t.signups),
                colour: "#16a34a",
            },
            Line {
                name: "Questions asked",
                values: pick(|t| t.questions_asked),
                colour: "#9333ea",
            },
        ],
    );
    let heat = charts::heatmap(
        "heat",
        "Activity (page views and votes) by hour of day (UTC) and weekday",
        &report.heatmap,
    );
    let q = range_query(&range);
    let csv_url = |t: &str| format!("/admin/reports?{q}&format=csv&table={t}");
    let page = viewer.render(
        "admin/reports",
        context! {
            figures: report.figures(),
            range_error: refused.as_ref().map(|r| &r.0),
            typed_from: refused.as_ref().map(|r| r.1),
            typed_to: refused.as_ref().map(|r| r.2),
            today: now.date().to_string(),
            page_title: "Reports",
            nav: "admin",
            admin_nav: "reports",
            window: range.window,
            from: range.from_day().to_string(),
            to: range.to_day().to_string(),
            hourly: range.hourly,
            per,
            questions_by_votes: question_rows(&report.questions_by_votes, &report.ranked_winners),
            questions_by_views: question_rows(&report.questions_by_views, &report.ranked_winners),
            question_paths: report.questions_by_votes.iter().chain(&report.questions_by_views)
                .map(|q| (q.id.to_string(), format!("/q/{}/{}", q.id, q.slug)))
                .collect::<std::collections::HashMap<_, _>>(),
            tags_by_votes: tag_rows(&report.tags_by_votes),
            tags_by_views: tag_rows(&report.tags_by_views),
            unusual_networks: &report.unusual_networks,
            unusual_network_min: UNUSUAL_NETWORK_MIN,
            unusual_network_percent: UNUSUAL_NETWORK_PERCENT,
            activity: activity_rows(report),
            built_at: iso(built.built_at),
            built_text: built.built_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            heatmap: &report.heatmap,
            weekdays: charts::WEEKDAYS,
            traffic_svg: traffic,
            growth_svg: growth,
            heatmap_svg: heat,
            csv: TABLES.iter().map(|t| (t.to_string(), csv_url(t))).collect::<std::collections::HashMap<_, _>>(),
        },
    );
    Ok(match refused {
        Some(_) => ReportResponse::Refused((Status::UnprocessableEntity, page)),
        None => ReportResponse::Page(page),
    })
}
