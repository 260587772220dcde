//! The question page `/q/<id>/<slug>` and its short form `/q/<id>`.

use rocket::http::Status;
use rocket::http::uri::Origin;
use rocket::response::Redirect;
use rocket::response::content::RawHtml;
use rocket::{get, routes};
use rocket_dyn_templates::{Metadata, Template, context};

use crate::analytics::{Event, Tracker};
use crate::auth::Voter;
use crate::domain::poll::results_hidden_reason;
use crate::domain::{FlagReason, FlagReport, PollStatus, Protection, TrustView};
use crate::error::{AppError, AppResult, Link};
use crate::models::poll::PollView;
use crate::models::segment::SegmentRow;
use crate::page_cache::PageCache;
use crate::routes::breakdowns::{self, BreakdownBody};
use crate::routes::params::{Qid, no_such_option};
use crate::routes::share::share_links;
use crate::routes::viewer::{Viewer, Visitor};
use crate::routes::views::{
    EMBED_WIDTH, MaybeSaved, ResultsPartial, embed_height, embed_snippet, excerpt, human_time, iso,
    saved_note,
};
use crate::services::reading::{Read, SavedCopy};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![short, show]
}

/// A message shown at the top of the question page (the template's `flash`): the one a redirect
/// carried in Rocket's flash cookie, or a refusal shown with the page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Notice {
    kind: &'static str,
    message: String,
}

impl Notice {
    /// A success message.
    pub fn ok(message: impl Into<String>) -> Notice {
        Notice {
            kind: "ok",
            message: message.into(),
        }
    }

    /// An error message.
    pub fn error(message: impl Into<String>) -> Notice {
        Notice {
            kind: "error",
            message: message.into(),
        }
    }

    /// Neither good nor bad news ("Please log in to continue.").
    pub fn info(message: impl Into<String>) -> Notice {
        Notice::from_flash("info", message)
    }

    /// A message styled by a flash's kind: `error`, `warning`, `info`, and anything else
    /// (`success`) as a success.
    pub fn from_flash(kind: &str, message: impl Into<String>) -> Notice {
        Notice {
            kind: match kind {
                "error" => "error",
                "warning" => "warning",
                "info" => "info",
                _ => "ok",
            },
            message: message.into(),
        }
    }
}

impl From<rocket::request::FlashMessage<'_>> for Notice {
    fn from(f: rocket::request::FlashMessage<'_>) -> Notice {
        Notice::from_flash(f.kind(), f.message())
    }
}

/// What the question page shows besides the question: a message, the "saved copy" note, and
/// choices to keep selected (a vote that could not be saved).
#[derive(Debug, Default)]
pub struct Extras {
    /// The message at the top.
    pub notice: Option<Notice>,
    /// The page is a saved copy (the database failed).
    pub saved: Option<SavedCopy>,
    /// Choices shown selected instead of the visitor's ballot.
    pub chosen: Option<Vec<i64>>,
    /// The segments offered under the results ("Break down by"): none when the author turned
    /// breakdowns off or the results are hidden.
    pub segments: Vec<SegmentRow>,
    /// The breakdown asked for with `?by=`.
    pub breakdown: Option<BreakdownBody>,
    /// Which ballots the results count (`?trust=`).
    pub trust: TrustView,
    /// The address the results' "All votes / Verified accounts only" links point at (the page's
    /// own when `None`).
    pub results_base: Option<String>,
}

/// Renders the question page for this voter (also used to re-show it after a refused vote).
pub fn render_page(
    app: &AppState,
    viewer: &Viewer,
    view: &PollView,
    voter: &Voter,
    extras: Extras,
) -> Template {
    Template::render(
        PAGE_TEMPLATE,
        page_context(app, viewer, view, voter.csrf_token(&app.keys), extras),
    )
}

const PAGE_TEMPLATE: &str = "questions/show";

/// What the question page template is rendered with; `csrf_token` goes into its forms (the
/// embed renders a part of it).
pub fn page_context(
    app: &AppState,
    viewer: &Viewer,
    view: &PollView,
    csrf_token: String,
    extras: Extras,
) -> serde_json::Value {
    let Extras {
        notice: flash,
        saved,
        chosen,
        segments,
        breakdown,
        trust,
        results_base,
    } = extras;
    let media = &app.media;
    let image_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| view.images.get(id))
            .map(|i| media.view(i))
    };
    let now = crate::models::now();
    let q = &view.question;
    let mine = view.my_choices.clone().unwrap_or_default();
    let selected = chosen.unwrap_or_else(|| mine.clone());
    let protection = q.protection();
    let (can_vote, blocked) = if view.status == PollStatus::Closed {
        (
            false,
            Some("This question is closed: these are its final results."),
        )
    } else if protection == Protection::Account && viewer.user().is_none() {
        (
            false,
            Some("Only logged-in members can vote on this question: log in or sign up to vote."),
        )
    } else {
        (true, None)
    };
    let results = view.results.as_ref().map(|r| {
        let base = results_base.unwrap_or_else(|| q.path());
        ResultsPartial::new(r, &view.choices, &mine, trust, &base)
    });
    let hidden = results_hidden_reason(q.visibility(), view.my_choices.is_some(), view.status);
    let choices: Vec<_> = view
        .choices
        .iter()
        .map(|c| {
            context! {
                id: c.id,
                label: &c.label,
                selected: selected.contains(&c.id),
                image: image_of(&c.image_id),
            }
        })
        .collect();
    let public = app.config.site.public_url.trim_end_matches('/');
    let canonical = format!("{public}{}", q.path());
    let image = image_of(&q.image_id);
    // Share cards need an absolute URL; the 1200 px rendition is the size they ask for.
    let og_image = image.as_ref().map(|i| {
        if i.url.starts_with('/') {
            format!("{public}{}", i.url)
        } else {
            i.url.clone()
        }
    });
    let description = q
        .description
        .as_deref()
        .map(|d| excerpt(d, 200))
        .unwrap_or_else(|| format!("{} votes so far. Cast yours on Beebeta.", view.total_votes));
    let manage = viewer
        .user()
        .filter(|u| Some(u.user.id) == q.author_id)
        .map(|_| {
            context! {
                can_edit: view.total_votes == 0 && view.status == PollStatus::Open,
                edit_url: format!("/q/{}/edit", q.id),
                close_url: (view.status == PollStatus::Open).then(|| format!("/q/{}/close", q.id)),
                delete_url: format!("/q/{}/delete", q.id),
            }
        });
    let embed_code = embed_snippet(
        public,
        &app.config.site.static_url,
        q.id,
        &q.title,
        EMBED_WIDTH,
        embed_height(view),
    );
    let oembed_url = format!(
        "{public}/oembed?format=json&url={}",
        url::form_urlencoded::byte_serialize(canonical.as_bytes()).collect::<String>()
    );
    viewer.context(context! {
            page_title: &q.title,
            embed_code,
            oembed_url,
            nav: "",
            site_name: "Beebeta",
            og: context! {
                title: &q.title,
                description,
                url: &canonical,
                site_name: "Beebeta",
                image: og_image,
                image_width: image.as_ref().map(|i| i.width),
                image_height: image.as_ref().map(|i| i.height),
            },
            q: context! {
                id: q.id,
                title: &q.title,
                description: &q.description,
                kind: &q.kind,
                min_choices: q.min_choices,
                max_choices: q.max_choices,
                tags: &view.tags,
                author: &view.author,
                author_deleted: q.author_deleted,
                created_at: iso(q.created_at),
                created_human: human_time(q.created_at, now),
                closes_at: q.closes_at.map(iso),
                closes_human: q.closes_at.or(q.closed_at).map(|t| human_time(t, now)),
                status: view.status,
                total_votes: view.total_votes,
                results_visibility: &q.results_visibility,
                protection: &q.protection,
                url: q.path(),
                image,
            },
            flash,
            choices,
            can_vote,
            vote_blocked_reason: blocked,
            my_vote: view.my_choices.is_some(),
            csrf_token,
            results,
            ranked: super::ranked::form(view, &selected),
            runoff: super::ranked::results(view, trust),
            results_hidden_reason: hidden,
            share: share_links(&canonical, &q.title),
            manage,
            saved_copy: saved_note(saved),
            flag_reasons: FlagReason::ALL
                .iter()
                .map(|r| context! { value: r.as_str(), label: r.label() })
                .collect::<Vec<_>>(),
            flag_details_max: FlagReport::MAX_DETAILS,
            breakdown_segments: segments
                .iter()
                .map(|s| context! { key: &s.seg_key, label: &s.label })
                .collect::<Vec<_>>(),
            breakdown,
    })
}

#[get("/q/<id>", rank = 2)]
async fn short(app: &AppState, id: Qid) -> AppResult<Redirect> {
    let view = app.poll_view(*id, None).await?.value;
    Ok(Redirect::moved(view.question.path()))
}

/// Either the page or a permanent redirect to the canonical URL.
#[derive(rocket::Responder)]
pub enum PageOrRedirect {
    /// The page.
    Page(Template),
    /// The page, rendered already.
    Html(RawHtml<String>),
    /// The canonical URL.
    Redirect(Redirect),
    /// The page with a non-200 status.
    Status((Status, Template)),
    /// The page, refused for a rate limit (429 with `Retry-After`).
    #[response(status = 429)]
    Limited(Template, rocket::http::Header<'static>),
    /// The page, with a vote the database did not take (503 with `Retry-After`).
    #[response(status = 503)]
    Unavailable(Template, rocket::http::Header<'static>),
}

/// The results view a page's `?trust=` asks for (read from its URI, see [`trust_of_query`]).
pub fn trust_of(uri: &Origin<'_>, base: &str) -> AppResult<TrustView> {
    let given = uri.query().and_then(|q| {
        q.segments()
            .filter(|(name, _)| *name == "trust")
            .map(|(_, value)| value)
            .last()
    });
    trust_of_query(given, base)
}

/// The results view `?trust=` asks for on the page at `base`; a value out of the set is a page
/// that does not exist (404), linking the two that do.
pub fn trust_of_query(given: Option<&str>, base: &str) -> AppResult<TrustView> {
    TrustView::from_query(given).map_err(|_| {
        no_such_option(
            "a way to count the results",
            given,
            TrustView::ALL.iter().map(|v| match v {
                TrustView::All => Link::new(v.label(), base),
                TrustView::Verified => Link::new(v.label(), format!("{base}?trust=verified")),
            }),
        )
    })
}

// `?by=` and `?trust=` are read from the URI rather than declared, so that the route's template
// (metrics and analytics label requests with it) stays `/q/<id>/<slug>`.
#[get("/q/<id>/<slug>", rank = 3)]
async fn show(
    app: &AppState,
    visitor: Visitor<'_>,
    track: Tracker,
    templates: Metadata<'_>,
    id: Qid,
    slug: &str,
    uri: &Origin<'_>,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let by = breakdowns::by_of(uri);
    let by = by.as_deref();
    let trust = trust_of(uri, uri.path().as_str())?;
    let Visitor {
        viewer,
        voter,
        flash,
    } = visitor;
    let pages = &app.pages;
    let keys = &app.keys;
    let view_event = || track.emit(Event::question_view(id.get()));
    // A visitor who cannot have a ballot (no voter cookie yet) and has no session or flash
    // gets the page last rendered for this address, without any read (see `page_cache`).
    let address = PageCache::address(("question", id.get(), slug));
    // A breakdown (`?by=`) or the verified-only results (`?trust=verified`) are rendered for this
    // request, never from or into the page cache.
    let anonymous =
        flash.is_none() && viewer.user().is_none() && by.is_none() && trust == TrustView::All;
    if anonymous
        && voter.ballot_key().is_none()
        && let Some(html) = pages.recent(address, &voter.csrf_token(keys))
    {
        view_event();
        return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
    }
    let Read { value: view, saved } = app.poll_view(*id, voter.ballot_key()).await?;
    if view.question.slug != slug {
        return Ok(MaybeSaved(
            PageOrRedirect::Redirect(Redirect::moved(view.question.path())),
            None,
        ));
    }
    view_event();
    let segments = breakdowns::offered(app, &view).await?;
    let breakdown = match by {
        Some(by) => match breakdowns::load(app, &view, by).await {
            Ok(b) => Some(b),
            // Hidden results: the page says so where the results would be.
            Err(AppError::Forbidden { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    // A saved copy (the database failed) is rendered for this visitor only, never kept.
    if anonymous && saved.is_none() && PageCache::shareable(&view) {
        let token = voter.csrf_token(keys);
        let key = PageCache::key(&view);
        if let Some(html) = pages.get_stored(key) {
            pages.remember(address, &html);
            let html = pages.personalise(&html, &token);
            return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
        }
        let placeholder = pages.placeholder().to_owned();
        let extras = Extras {
            segments: segments.clone(),
            ..Extras::default()
        };
        let context = page_context(app, &viewer, &view, placeholder, extras);
        if let Some((_, html)) = templates.render(PAGE_TEMPLATE, context) {
            let stored = pages.insert_shared(key, html);
            pages.remember(address, &stored);
            let html = pages.personalise(&stored, &token);
            return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
        }
    }
    let notice = flash.map(Notice::from);
    let extras = Extras {
        notice,
        saved,
        chosen: None,
        segments,
        breakdown,
        trust,
        results_base: None,
    };
    let page = render_page(app, &viewer, &view, &voter, extras);
    Ok(MaybeSaved(PageOrRedirect::Page(page), saved))
}
