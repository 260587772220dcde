//! `/admin/questions/<id>`: one question's numbers over time: views and votes per day since it
//! was asked (the daily rollups), and how many of its views became votes.

use rocket::get;
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::error::AppResult;
use crate::models::question::path_of;
use crate::routes::admin::charts::{self, Line};
use crate::routes::params::Qid;
use crate::routes::viewer::Viewer;
use crate::routes::views::human_time;
use crate::services::reports;
use crate::state::AppState;

#[get("/admin/questions/<id>")]
pub async fn question(
    app: &AppState,
    admin: AdminUser,
    viewer: Viewer,
    id: Qid,
) -> AppResult<Template> {
    let _ = admin;
    let now = crate::models::now();
    let h = reports::question_history(&app.db, id.get(), now).await?;
    let labels: Vec<String> = h
        .days
        .iter()
        .map(|d| d.0.format("%b %d").to_string())
        .collect();
    let chart = charts::line_chart(
        "question-history",
        "Views and votes per day",
        &labels,
        &[
            Line {
                name: "Views",
                values: h.days.iter().map(|d| d.1).collect(),
                colour: "#f97316",
            },
            Line {
                name: "Votes",
                values: h.days.iter().map(|d| d.2).collect(),
                colour: "#2563eb",
            },
        ],
    );
    let q = &h.question;
    let rows: Vec<_> = h
        .days
        .iter()
        .rev()
        .filter(|d| d.1 > 0 || d.2 > 0)
        .map(|d| {
            let conversion = (d.1 > 0).then(|| format!("{:.1}%", d.2 as f64 * 100.0 / d.1 as f64));
            context! { day: d.0.format("%Y-%m-%d").to_string(), views: d.1, votes: d.2, conversion }
        })
        .collect();
    Ok(viewer.render(
        "admin/question",
        context! {
            page_title: format!("Numbers: {}", q.title),
            nav: "admin",
            admin_nav: "questions",
            q,
            url: path_of(q.id, &q.slug),
            asked_human: human_time(q.created_at, now),
            views: h.views,
            votes: h.votes,
            conversion: h.conversion().map(|c| format!("{c:.1}%")),
            ballots: q.vote_count,
            days: h.days.len(),
            capped: h.days.len() as i64 == reports::HISTORY_DAYS,
            chart,
            rows,
        },
    ))
}
