//! Template contexts shared by the HTML routes (`*Partial`: a piece of a page, e.g. a list item or
//! the results bars), built from the models' read views, and the text helpers they use.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::domain::poll::results_visible;
use crate::domain::{Kind, PollStatus, Trust, TrustView};
use crate::models::choice::ChoiceRow;
use crate::models::counts::Counts;
use crate::models::listing::QuestionSummary;
use crate::models::poll::PollView;
use crate::services::document::escape_markup;
use crate::services::reading::SavedCopy;

/// "3 days ago" / "in 2 hours".
pub fn human_time(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (now - t).num_seconds();
    let (abs, future) = (secs.unsigned_abs(), secs < 0);
    let (n, unit) = match abs {
        0..=59 => {
            return if future {
                "in a moment".into()
            } else {
                "just now".into()
            };
        }
        60..=3_599 => (abs / 60, "minute"),
        3_600..=86_399 => (abs / 3_600, "hour"),
        86_400..=2_591_999 => (abs / 86_400, "day"),
        2_592_000..=31_535_999 => (abs / 2_592_000, "month"),
        _ => (abs / 31_536_000, "year"),
    };
    let s = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{s}")
    } else {
        format!("{n} {unit}{s} ago")
    }
}

/// ISO 8601 in UTC, e.g. `2026-11-22T10:00:00Z`.
pub fn iso(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Percent of `part` in `total`, one decimal.
pub fn percent(part: i64, total: i64) -> f64 {
    if total <= 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / total as f64).round() / 10.0
    }
}

/// First `n` characters of a text, with an ellipsis when cut.
pub fn excerpt(text: &str, n: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        let cut: String = flat.chars().take(n).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A question in a list page.
#[derive(Debug, Serialize)]
pub struct ItemPartial {
    id: i64,
    title: String,
    url: String,
    tags: Vec<String>,
    total_votes: i64,
    created_at: String,
    created_human: String,
    closes_at: Option<String>,
    status: PollStatus,
    author: Option<String>,
    /// The author deleted their account (shown as "[deleted]").
    author_deleted: bool,
    excerpt: Option<String>,
    kind: String,
    image: Option<crate::media::PublicImage>,
    /// A ranked question's winner, when everyone may see its results.
    winner: Option<crate::models::ranking::Winner>,
}

impl ItemPartial {
    /// Builds the list item.
    pub fn new(
        s: &QuestionSummary,
        now: NaiveDateTime,
        media: &crate::media::Media,
    ) -> ItemPartial {
        let q = &s.question;
        ItemPartial {
            image: s.image.as_ref().map(|i| media.view(i)),
            id: q.id,
            title: q.title.clone(),
            url: q.path(),
            tags: s.tags.clone(),
            total_votes: q.vote_count,
            created_at: iso(q.created_at),
            created_human: human_time(q.created_at, now),
            closes_at: q.closes_at.map(iso),
            status: q.status(now),
            author: s.author.clone(),
            author_deleted: q.author_deleted,
            excerpt: q.description.as_deref().map(|d| excerpt(d, 160)),
            kind: q.kind.clone(),
            winner: s.winner.clone(),
        }
    }
}

/// A User-Agent as people say it: "Firefox on Linux", "Safari on iPhone"; the raw string
/// (shortened) when it names no known browser, `None` when there is none.
pub fn device_name(user_agent: &str) -> Option<String> {
    let ua = user_agent.trim();
    if ua.is_empty() {
        return None;
    }
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    // Browsers by name; tools and crawlers ("HTTP Library") by what they send.
    let browser = |category: &str| matches!(category, "pc" | "smartphone" | "mobilephone");
    let parsed = woothee::parser::Parser::new().parse(ua);
    Some(match parsed {
        Some(r) if browser(r.category) && known(r.name) && known(r.os) => {
            format!("{} on {}", r.name, r.os)
        }
        Some(r) if browser(r.category) && known(r.name) => r.name.to_string(),
        _ => ua.chars().take(60).collect(),
    })
}

/// One row of the results bars.
#[derive(Debug, Serialize)]
pub struct ResultBar {
    id: i64,
    label: String,
    votes: i64,
    percent: f64,
    leading: bool,
    mine: bool,
}

/// The results section of a question page.
#[derive(Debug, Serialize)]
pub struct ResultsPartial {
    /// Voters (ballots) counted in this view.
    total: i64,
    /// Choices picked, over the ballots counted: more than `total` when voters may pick several.
    selections: i64,
    choices: Vec<ResultBar>,
    as_of: i64,
    /// Which ballots are counted: `all` or `verified`.
    trust: &'static str,
    /// Every ballot, and those of verified accounts (the line under the toggle).
    all_total: i64,
    verified_total: i64,
    /// The other levels that have ballots, for the line under the toggle ("2 from browsers").
    other_levels: String,
    /// Where the toggle's two views are (the page's or the embed's address).
    all_url: String,
    verified_url: String,
}

impl ResultsPartial {
    /// Builds bars for every choice in display order, counting the ballots `trust` names; `base`
    /// is the address the page's toggle links to (`?trust=verified` for the verified view).
    pub fn new(
        all: &Counts,
        choices: &[ChoiceRow],
        mine: &[i64],
        trust: TrustView,
        base: &str,
    ) -> ResultsPartial {
        let counts = &all.view(trust);
        let top = counts.by_choice.values().copied().max().unwrap_or(0);
        let rows = choices
            .iter()
            .map(|c| {
                let votes = counts.by_choice.get(&c.id).copied().unwrap_or(0);
                ResultBar {
                    id: c.id,
                    label: c.label.clone(),
                    votes,
                    percent: percent(votes, counts.total),
                    leading: top > 0 && votes == top,
                    mine: mine.contains(&c.id),
                }
            })
            .collect();
        ResultsPartial {
            total: counts.total,
            selections: counts.by_choice.values().sum(),
            choices: rows,
            as_of: counts.as_of,
            trust: trust.as_str(),
            all_total: all.total,
            verified_total: all.ballots_at(Trust::Verified),
            other_levels: other_levels(all),
            all_url: base.to_string(),
            verified_url: format!("{base}?trust=verified"),
        }
    }
}

/// The ballots of the levels other than verified accounts, those that have any, as the results
/// box words them: "2 from browsers, 1 from accounts without a verified email".
pub fn other_levels(counts: &Counts) -> String {
    [
        (Trust::Cookie, "from browsers"),
        (Trust::Network, "from browsers within the network limit"),
        (Trust::Account, "from accounts without a verified email"),
    ]
    .iter()
    .filter_map(|&(t, words)| {
        let n = counts.ballots_at(t);
        (n > 0).then(|| format!("{n} {words}"))
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// A response that may be a saved copy (stale-if-error, `services::reading`): it carries `Age`
/// (seconds since the oldest saved part was built) when it is. Pages also show the note
/// ([`saved_note`]).
pub struct MaybeSaved<R>(pub R, pub Option<SavedCopy>);

impl<R> MaybeSaved<R> {
    /// A response that is not a saved copy.
    pub fn fresh(r: R) -> MaybeSaved<R> {
        MaybeSaved(r, None)
    }
}

impl<'r, 'o: 'r, R: rocket::response::Responder<'r, 'o>> rocket::response::Responder<'r, 'o>
    for MaybeSaved<R>
{
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'o> {
        let mut resp = self.0.respond_to(req)?;
        if let Some(saved) = self.1 {
            resp.set_raw_header("Age", saved.age_secs().to_string());
            // A shared cache must not keep it as the page.
            resp.set_raw_header("Cache-Control", "no-store");
        }
        Ok(resp)
    }
}

/// The template value of the "saved copy" note (`saved_copy` in `base.html.tera`).
pub fn saved_note(saved: Option<SavedCopy>) -> Option<serde_json::Value> {
    saved.map(|s| {
        let secs = s.age_secs();
        let age = match secs {
            0..=59 => "less than a minute ago".to_string(),
            60..=119 => "a minute ago".to_string(),
            _ => format!("{} minutes ago", secs / 60),
        };
        serde_json::json!({ "age": age, "personal_left_out": s.personal_left_out })
    })
}

/// The width an embedded question asks for (CSS pixels; it shrinks with its container).
pub const EMBED_WIDTH: u32 = 560;
/// The height of an embedded question with no choices (heading, notes, buttons, links).
pub const EMBED_HEIGHT_BASE: u32 = 420;

/// The height an embedded question starts at (the snippet's and oEmbed's `height`) before its
/// script reports the real one; what a host page without that script shows. From what a visitor
/// who has not voted sees: a row per choice in the form (a ranked one's is taller), and when the
/// results are shown a row per choice there too, plus the rounds of a ranked count. Fitted to the
/// demo's embeds measured in Chromium at 560 px (3 to 6 choices, single, multiple and ranked,
/// results shown or not: within 4 %; `tests/e2e/embed.test.mjs` checks it).
pub fn embed_height(view: &PollView) -> u32 {
    let q = &view.question;
    let n = u32::try_from(view.choices.len().min(20)).unwrap_or(20);
    let ranked = q.kind() == Kind::Ranked;
    let mut height = EMBED_HEIGHT_BASE + n * if ranked { 60 } else { 48 };
    if results_visible(q.visibility(), false, view.status) {
        height += 40 + 60 * n + if ranked { 32 * n } else { 0 };
    }
    height
}

/// The HTML another site pastes to show question `id`: the frame, and the script that sizes it
/// to its content (`static/js/embed.js`, by its unhashed URL so pasted snippets outlive deploys).
pub fn embed_snippet(
    public_url: &str,
    static_url: &str,
    id: i64,
    title: &str,
    width: u32,
    height: u32,
) -> String {
    let public = public_url.trim_end_matches('/');
    let statics = static_url.trim_end_matches('/');
    let script = match statics.starts_with('/') && !statics.starts_with("//") {
        true => format!("{public}{statics}/js/embed.js"),
        false => format!("{statics}/js/embed.js"),
    };
    format!(
        "<iframe src=\"{src}\" width=\"{width}\" height=\"{height}\" title=\"Poll: {title}\" \
         style=\"border:0;max-width:100%\" loading=\"lazy\" data-beebeta-embed></iframe>\
         <script async src=\"{script}\"></script>",
        src = escape_markup(&format!("{public}/q/{id}/embed")),
        title = escape_markup(title),
        script = escape_markup(&script),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn humanised_times() {
        let now = chrono::Utc::now().naive_utc();
        assert_eq!(human_time(now, now), "just now");
        assert_eq!(human_time(now - Duration::hours(1), now), "1 hour ago");
        assert_eq!(human_time(now - Duration::days(3), now), "3 days ago");
        assert_eq!(
            human_time(now + Duration::days(2) + Duration::minutes(1), now),
            "in 2 days"
        );
    }

    #[test]
    fn devices_are_named_as_people_say_them() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_name(firefox).as_deref(), Some("Firefox on Linux"));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(iphone).as_deref(), Some("Safari on iPhone"));
        assert_eq!(device_name("curl/8.5.0").as_deref(), Some("curl/8.5.0"));
        assert_eq!(device_name("  "), None);
    }

    #[test]
    fn percents_and_excerpts() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(excerpt("a  b\nc", 10), "a b c");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
