//! Polls on other sites: `/q/<id>/embed` (the only page another site may frame: see
//! `app::SecurityHeaders`), its vote form, the probe its script asks whether the frame keeps its
//! voter cookie, and oEmbed (`/oembed`).
//!
//! Inside another site's frame the browser sends the voter cookie only if it took it as a
//! third-party cookie (`SameSite=None; Secure; Partitioned`, set by [`EmbedVoter`] on https).
//! Where it did not, the vote would come from a visitor with no cookie: the probe tells the
//! frame's script to replace the form with "Vote on Beebeta" (a new tab), and a vote posted
//! without the cookie anyway is refused with the same offer. Nothing weaker is accepted: the
//! question's own protection (browser, network, account) decides as on the question page.

use rocket::http::{ContentType, Header, Status};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{FromFormField, Responder, get, post, routes};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::analytics::{Event, Tracker};
use crate::auth::CsrfForm;
use crate::auth::client_ip::ClientIp;
use crate::auth::voter::{EmbedVoter, KnownVoter, Voter};
use crate::domain::{PollStatus, Protection, QuestionId, TrustView};
use crate::error::{AppError, AppResult};
use crate::models::ballot::VoteOutcome;
use crate::models::poll::PollView;
use crate::routes::params::Qid;
use crate::routes::questions::{Extras, Notice, page_context, trust_of_query};
use crate::routes::viewer::Viewer;
use crate::routes::views::{EMBED_WIDTH, embed_height, embed_snippet};
use crate::routes::votes::{VoteForm, cast, outcome_message};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![page, vote, probe, oembed]
}

const TEMPLATE: &str = "questions/embed";

/// What the embed says after a vote was taken (the `done` parameter of the redirect).
#[derive(Debug, Clone, Copy, FromFormField)]
pub enum Done {
    /// A new ballot.
    Created,
    /// A changed one.
    Changed,
    /// The same choices again.
    Unchanged,
}

impl Done {
    fn of(outcome: VoteOutcome) -> Done {
        match outcome {
            VoteOutcome::Created => Done::Created,
            VoteOutcome::Changed => Done::Changed,
            VoteOutcome::Unchanged => Done::Unchanged,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Done::Created => "created",
            Done::Changed => "changed",
            Done::Unchanged => "unchanged",
        }
    }

    fn outcome(self) -> VoteOutcome {
        match self {
            Done::Created => VoteOutcome::Created,
            Done::Changed => VoteOutcome::Changed,
            Done::Unchanged => VoteOutcome::Unchanged,
        }
    }
}

/// The embed's answer: the page (with a status) or, after a vote, back to it.
#[derive(Responder)]
pub enum EmbedAnswer {
    /// The embed page.
    Page((Status, Template)),
    /// The embed page, refused for a rate limit or an unavailable database (with `Retry-After`).
    Retry((Status, Template), Header<'static>),
    /// After a vote: the page again (Post/Redirect/Get).
    Redirect(Redirect),
}

/// How the embed is rendered for this request.
struct Shown<'a> {
    notice: Option<Notice>,
    /// The frame's voter cookie did not come back: offer the question page instead of the form.
    cookie_refused: bool,
    csrf_token: String,
    chosen: Option<Vec<i64>>,
    view: &'a PollView,
    /// Which ballots the results count (`?trust=`).
    trust: TrustView,
}

/// What the embed tells a voter about duplicate protection here.
fn protection_note(protection: Protection) -> &'static str {
    match protection {
        Protection::Browser => {
            "One vote per browser. Browsers keep a separate cookie for each site that shows this \
             poll, so a vote here and one on Beebeta may both count."
        }
        Protection::Network => {
            "One vote per browser, and a daily limit per network that holds here as on Beebeta."
        }
        Protection::Account => "Only Beebeta members can vote on this question.",
    }
}

fn render(app: &AppState, viewer: &Viewer, shown: Shown<'_>) -> Template {
    let Shown {
        notice,
        cookie_refused,
        csrf_token,
        chosen,
        view,
        trust,
    } = shown;
    let extras = Extras {
        notice,
        saved: None,
        chosen,
        trust,
        results_base: Some(format!("/q/{}/embed", view.question.id)),
        ..Extras::default()
    };
    let mut context = page_context(app, viewer, view, csrf_token, extras);
    let q = &view.question;
    let public = app.config.site.public_url.trim_end_matches('/');
    if let serde_json::Value::Object(map) = &mut context {
        map.insert(
            "embed".into(),
            serde_json::json!({
                "page_url": format!("{public}{}", q.path()),
                "author_url": view.author.as_deref().map(|name| format!(
                    "{public}/u/{}",
                    url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
                )),
                "vote_url": match trust.query_pair() {
                    Some(pair) => format!("/q/{}/embed?{pair}", q.id),
                    None => format!("/q/{}/embed", q.id),
                },
                "probe_url": "/embed/probe",
                "protection_note": protection_note(q.protection()),
                "cookie_refused": cookie_refused,
                "open": view.status == PollStatus::Open,
            }),
        );
    }
    Template::render(TEMPLATE, context)
}

/// The embeddable question: question, choices, vote form, results (under the question's
/// visibility rule, as on its page) and a link to the page.
#[get("/q/<id>/embed?<done>&<trust>")]
#[allow(clippy::too_many_arguments)]
async fn page(
    app: &AppState,
    voter: EmbedVoter,
    viewer: Viewer,
    track: Tracker,
    id: Qid,
    done: Option<Done>,
    trust: Option<&str>,
) -> AppResult<EmbedAnswer> {
    let base = format!("/q/{}/embed", id.get());
    let trust = trust_of_query(trust, &base)?;
    let voter = voter.0;
    let view = app.poll_view(*id, voter.ballot_key()).await?.value;
    track.emit(Event::question_view(id.get()));
    let shown = Shown {
        notice: done.map(|d| Notice::ok(outcome_message(d.outcome()))),
        cookie_refused: false,
        csrf_token: voter.csrf_token(&app.keys),
        chosen: None,
        view: &view,
        trust,
    };
    Ok(EmbedAnswer::Page((Status::Ok, render(app, &viewer, shown))))
}

/// A vote from the embed. Without the frame's voter cookie (the browser refused it) the vote is
/// not taken and the embed offers the question page; otherwise as `POST /q/<id>/vote`. The
/// results view (`?trust=`) the frame showed is kept for the answer.
#[post("/q/<id>/embed?<trust>", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn vote(
    app: &AppState,
    known: KnownVoter,
    viewer: Viewer,
    ip: ClientIp,
    track: Tracker,
    id: Qid,
    trust: Option<&str>,
    form: Result<CsrfForm<VoteForm>, ()>,
) -> AppResult<EmbedAnswer> {
    let trust = trust_of_query(trust, &format!("/q/{}/embed", id.get()))?;
    let Some(voter) = known.0 else {
        let view = app.poll_view(*id, None).await?.value;
        let shown = Shown {
            notice: Some(Notice::error(
                "Your browser did not keep this poll's cookie inside the frame, so the vote \
                 was not counted. Vote on Beebeta instead: it opens in a new tab.",
            )),
            cookie_refused: true,
            csrf_token: String::new(),
            chosen: None,
            view: &view,
            trust,
        };
        return Ok(EmbedAnswer::Page((
            Status::Forbidden,
            render(app, &viewer, shown),
        )));
    };
    let Ok(form) = form else {
        let view = app.poll_view(*id, voter.ballot_key()).await?.value;
        let shown = Shown {
            notice: Some(Notice::error(
                "This form has expired. Choose again and vote: the form is fresh now.",
            )),
            cookie_refused: false,
            csrf_token: voter.csrf_token(&app.keys),
            chosen: None,
            view: &view,
            trust,
        };
        return Ok(EmbedAnswer::Page((
            Status::Forbidden,
            render(app, &viewer, shown),
        )));
    };
    // A ranked question's numbered ranks, or the chosen ids.
    let sent = match form.0.sent() {
        Ok(sent) => sent,
        Err(err) => return refused(app, &viewer, &voter, id, trust, err, &[]).await,
    };
    match cast(app, &voter, &ip, id, &sent).await {
        Ok(cast) => {
            track.vote(id.get(), cast.outcome, &cast.choices);
            let done = Done::of(cast.outcome).as_str();
            let view = trust
                .query_pair()
                .map(|p| format!("&{p}"))
                .unwrap_or_default();
            Ok(EmbedAnswer::Redirect(Redirect::to(format!(
                "/q/{}/embed?done={done}{view}",
                id.get()
            ))))
        }
        Err(err) => refused(app, &viewer, &voter, id, trust, err, &sent).await,
    }
}

/// A refused vote shows the embed again with the reason (and the choices kept when the database
/// did not take it).
async fn refused(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    id: Qid,
    trust: TrustView,
    err: AppError,
    choice: &[String],
) -> AppResult<EmbedAnswer> {
    let status = err.status();
    let unsaved = matches!(err, AppError::DbUnavailable(_));
    if !unsaved && !matches!(status.code, 400 | 401 | 409 | 422 | 429) {
        return Err(err);
    }
    let view = match app.poll_view(*id, voter.ballot_key()).await {
        Ok(read) => read.value,
        Err(_) if unsaved => return Err(err),
        Err(e) => return Err(e),
    };
    let message = match unsaved {
        true => "We could not save your vote — try again in a moment.".to_string(),
        false => err.public_message(),
    };
    let shown = Shown {
        notice: Some(Notice::error(message)),
        cookie_refused: false,
        csrf_token: voter.csrf_token(&app.keys),
        chosen: unsaved
            .then(|| crate::domain::ballot::parse_ids(choice).ok())
            .flatten(),
        view: &view,
        trust,
    };
    let page = (status, render(app, viewer, shown));
    Ok(match err.retry_after_secs() {
        Some(secs) => EmbedAnswer::Retry(page, Header::new("Retry-After", secs.to_string())),
        None => EmbedAnswer::Page(page),
    })
}

/// Whether this request carried a voter cookie or a session: the embed's script asks after its
/// page set the cookie, to learn whether the browser kept it inside the frame.
#[derive(Serialize)]
struct Probe {
    voter: bool,
}

/// The probe's answer, never cached.
#[derive(Responder)]
struct ProbeAnswer(Json<Probe>, Header<'static>);

#[get("/embed/probe")]
fn probe(known: KnownVoter) -> ProbeAnswer {
    ProbeAnswer(
        Json(Probe {
            voter: known.0.is_some(),
        }),
        Header::new("Cache-Control", "no-store"),
    )
}

/// An oEmbed answer (<https://oembed.com>, "rich" type).
#[derive(Debug, Serialize)]
pub struct OEmbed {
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    provider_name: &'static str,
    provider_url: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_url: Option<String>,
    html: String,
    width: u32,
    height: u32,
    cache_age: u32,
}

/// oEmbed's answers besides JSON: 404 for a URL that is not a question of this site, 501 for a
/// format other than JSON (as the specification says), 400 for a malformed size.
#[derive(Responder)]
pub enum OEmbedAnswer {
    /// The JSON answer.
    Json(Json<OEmbed>, Header<'static>),
    /// An error, as plain text.
    Error((Status, (ContentType, String))),
}

fn oembed_error(status: Status, message: &str) -> OEmbedAnswer {
    OEmbedAnswer::Error((status, (ContentType::Plain, message.to_string())))
}

/// The question id of a URL of this site: `<public url>/q/<id>`, `/q/<id>/<slug>` or
/// `/q/<id>/embed` (any scheme or a trailing slash; the host must be the site's).
fn question_id_of(url: &str, public_url: &str) -> Option<i64> {
    let url = url::Url::parse(url.trim()).ok()?;
    let public = url::Url::parse(public_url).ok()?;
    // The other scheme of the same host is accepted on default ports only.
    let same_port = match url.scheme() == public.scheme() {
        true => url.port_or_known_default() == public.port_or_known_default(),
        false => url.port().is_none() && public.port().is_none(),
    };
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str()? != public.host_str()?
        || !same_port
    {
        return None;
    }
    let base = public.path().trim_end_matches('/');
    let path = url.path().strip_prefix(base)?;
    let mut parts = path.trim_end_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(""), Some("q"), Some(id), None | Some(_)) if parts.next().is_none() => {
            id.parse::<i64>().ok().filter(|id| *id > 0)
        }
        _ => None,
    }
}

/// oEmbed for question URLs: `/oembed?url=<question URL>&maxwidth=&maxheight=&format=json`.
#[get("/oembed?<url>&<maxwidth>&<maxheight>&<format>")]
async fn oembed(
    app: &AppState,
    url: Option<&str>,
    maxwidth: Option<&str>,
    maxheight: Option<&str>,
    format: Option<&str>,
) -> AppResult<OEmbedAnswer> {
    if format.is_some_and(|f| f != "json") {
        return Ok(oembed_error(
            Status::NotImplemented,
            "Only format=json is available.",
        ));
    }
    let size = |v: Option<&str>| match v {
        None => Ok(None),
        Some(v) => v.trim().parse::<u32>().map(Some).map_err(|_| ()),
    };
    let (Ok(maxwidth), Ok(maxheight)) = (size(maxwidth), size(maxheight)) else {
        return Ok(oembed_error(
            Status::BadRequest,
            "maxwidth and maxheight must be whole numbers of pixels.",
        ));
    };
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return Ok(oembed_error(
            Status::BadRequest,
            "Give the question's address as `url`.",
        ));
    };
    let public = app.config.site.public_url.trim_end_matches('/').to_string();
    let Some(id) = question_id_of(url, &public) else {
        return Ok(oembed_error(
            Status::NotFound,
            "That address is not a question on this site.",
        ));
    };
    let view = match app.poll_view(QuestionId(id), None).await {
        Ok(read) => read.value,
        Err(AppError::NotFound(_)) => {
            return Ok(oembed_error(Status::NotFound, "There is no such question."));
        }
        Err(e) => return Err(e),
    };
    let q = &view.question;
    let width = maxwidth.map_or(EMBED_WIDTH, |m| m.min(EMBED_WIDTH));
    let natural = embed_height(&view);
    let height = maxheight.map_or(natural, |m| m.min(natural));
    let html = embed_snippet(
        &public,
        &app.config.site.static_url,
        q.id,
        &q.title,
        width,
        height,
    );
    let author_url = view.author.as_ref().map(|a| format!("{public}/u/{a}"));
    let answer = OEmbed {
        version: "1.0",
        kind: "rich",
        provider_name: "Beebeta",
        provider_url: format!("{public}/"),
        title: q.title.clone(),
        author_name: view.author.clone(),
        author_url,
        html,
        width,
        height,
        cache_age: 3600,
    };
    Ok(OEmbedAnswer::Json(
        Json(answer),
        Header::new("Cache-Control", "public, max-age=3600"),
    ))
}

#[cfg(test)]
mod tests {
    use super::question_id_of;

    #[test]
    fn question_urls_of_this_site_only() {
        let site = "https://beebeta.example";
        for (url, id) in [
            ("https://beebeta.example/q/12", Some(12)),
            ("https://beebeta.example/q/12/", Some(12)),
            ("https://beebeta.example/q/12/best-pizza", Some(12)),
            ("http://beebeta.example/q/12/best-pizza", Some(12)),
            ("https://beebeta.example/q/12/embed", Some(12)),
            ("https://beebeta.example/q/12/best-pizza?x=1#r", Some(12)),
            ("https://beebeta.example/q/12/a/b", None),
            ("https://beebeta.example/q/0", None),
            ("https://beebeta.example/q/-3", None),
            ("https://beebeta.example/q/abc", None),
            ("https://beebeta.example/t/pizza", None),
            ("https://beebeta.example/", None),
            ("https://evil.example/q/12", None),
            ("https://beebeta.example.evil/q/12", None),
            ("https://beebeta.example:8443/q/12", None),
            ("javascript:alert(1)", None),
            ("not a url", None),
        ] {
            assert_eq!(question_id_of(url, site), id, "{url}");
        }
        // A site under a path prefix.
        let prefixed = "https://example.org/polls";
        assert_eq!(
            question_id_of("https://example.org/polls/q/5/x", prefixed),
            Some(5)
        );
        assert_eq!(question_id_of("https://example.org/q/5/x", prefixed), None);
    }
}
