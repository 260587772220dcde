//! Question lists: hot (`/`), new, top, by tag, search, and the tag index.

use std::hash::{DefaultHasher, Hash, Hasher};

use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::content::RawHtml;
use rocket::{get, routes};
use rocket_dyn_templates::{Metadata, Template, context};

use crate::analytics::{Event, Tracker};
use crate::auth::client_ip::ClientIp;
use crate::domain::{Page, SearchSort, SearchTerms, Sort, StatusFilter, TagName, Window};
use crate::error::{AppError, AppResult, Link};
use crate::limits::Action;
use crate::models;
use crate::models::listing::ListQuery;
use crate::models::search::SearchFilter;
use crate::page_cache::PageCache;
use crate::routes::params::{no_such_option, page_of};
use crate::routes::questions::PageOrRedirect;
use crate::routes::viewer::Viewer;
use crate::routes::views::{ItemPartial, MaybeSaved, saved_note};
use crate::services::reading::{self, Read, SavedCopy};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![hot, new, top, by_tag, search, tags]
}

/// The page cache and the template renderer: list pages are the same for every anonymous
/// visitor (they carry no form and no per-visitor state), so each app server renders one per
/// version of the list and hands the same HTML to all of them (see `page_cache`).
pub struct Shared<'r> {
    pages: &'r PageCache,
    templates: Metadata<'r>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Shared<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let Some(app) = req.rocket().state::<AppState>() else {
            return Outcome::Error((rocket::http::Status::InternalServerError, ()));
        };
        let pages = &app.pages;
        match req.guard::<Metadata<'r>>().await {
            Outcome::Success(templates) => Outcome::Success(Shared { pages, templates }),
            _ => Outcome::Error((rocket::http::Status::InternalServerError, ())),
        }
    }
}

/// What a list page says about itself: its title, heading and address.
struct ListHeading {
    page_title: String,
    heading: String,
    subheading: Option<String>,
    nav: &'static str,
    base: String,
    /// The tag listed, if the list is a tag's.
    tag: Option<String>,
    /// The search text, if the list is a search's.
    q: Option<String>,
    /// Set when part of the heading (the tag) is a saved copy.
    saved: Option<SavedCopy>,
    /// The search form's filters, on the search page.
    filters: Option<SearchForm>,
    /// The Atom feed of the list's new questions, if it has one (`<link rel="alternate">`).
    feed: Option<FeedLink>,
}

/// A list's Atom feed, for the page's head.
#[derive(Debug, Clone, serde::Serialize)]
struct FeedLink {
    url: String,
    title: String,
}

/// What the search page's form shows as chosen.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct SearchForm {
    tag: String,
    status: &'static str,
    sort: &'static str,
}

/// What a list page shows: a list, or search results.
enum Source {
    List(ListQuery),
    Search(SearchTerms, SearchFilter),
}

impl ListHeading {
    /// The heading of a list that is neither a tag's nor a search's.
    fn new(
        title: String,
        heading: &str,
        subheading: String,
        nav: &'static str,
        base: String,
    ) -> Self {
        ListHeading {
            saved: None,
            page_title: title,
            heading: heading.into(),
            subheading: Some(subheading),
            nav,
            base,
            tag: None,
            q: None,
            filters: None,
            feed: None,
        }
    }

    /// The same, with the site's feed of new questions.
    fn with_site_feed(mut self) -> Self {
        self.feed = Some(FeedLink {
            url: "/feed.atom".into(),
            title: "New questions on Beebeta".into(),
        });
        self
    }
}

fn page_url(base: &str, page: u32) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    if page == 1 && !base.contains('?') {
        base.to_string()
    } else {
        format!("{base}{sep}page={page}")
    }
}

async fn render(
    app: &AppState,
    shared: &Shared<'_>,
    view: &Viewer,
    source: Source,
    meta: ListHeading,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let (tag, q) = (meta.tag, meta.q);
    let (page, window, sort_name) = match &source {
        Source::List(query) if tag.is_some() => (query.page, query.window, "tag"),
        Source::List(query) => (query.page, query.window, query.sort.as_str()),
        Source::Search(_, filter) => (filter.page, Window::All, "search"),
    };
    // Anonymous visitors all see the same list page: served by its address for a second,
    // then by the list's data (see `page_cache`).
    let anonymous = view.user().is_none();
    let address = list_address(&meta.base, sort_name, window, &tag, &q, page);
    if anonymous && let Some(html) = shared.pages.recent(address, "") {
        return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
    }
    let now = models::now();
    let Read {
        value: result,
        saved,
    } = match source {
        Source::List(query) => reading::list(&app.db, &app.cache, query, now).await?,
        Source::Search(terms, filter) => {
            reading::search(&app.db, &app.cache, app.search_cache(), terms, filter, now).await?
        }
    };
    let saved = saved.or(meta.saved);
    // A saved copy (the database failed) is rendered for this visitor only, never kept.
    let key = (anonymous && saved.is_none()).then(|| {
        let mut h = DefaultHasher::new();
        address.hash(&mut h);
        format!("{result:?}").hash(&mut h);
        h.finish()
    });
    if let Some(html) = key.and_then(|k| shared.pages.get_stored(k)) {
        shared.pages.remember(address, &html);
        let html = html.as_ref().clone();
        return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
    }
    let items: Vec<ItemPartial> = result
        .items
        .iter()
        .map(|s| ItemPartial::new(s, now, &app.media))
        .collect();
    let next_url = if result.has_more {
        page.next().map(|n| page_url(&meta.base, n))
    } else {
        None
    };
    let prev_url = page.prev().map(|n| page_url(&meta.base, n));
    let context = view.context(context! {
            page_title: meta.page_title,
            heading: meta.heading,
            subheading: meta.subheading,
            nav: meta.nav,
            sort: sort_name,
            window: window.as_str(),
            tag,
            search_q: q.clone(),
            q,
            items,
            page: page.number(),
            prev_url,
            next_url,
            first_url: page_url(&meta.base, 1),
            saved_copy: saved_note(saved),
            filters: meta.filters,
            feed: meta.feed,
    });
    if let Some(k) = key
        && let Some((_, html)) = shared.templates.render(LIST_TEMPLATE, &context)
    {
        let stored = shared.pages.insert_shared(k, html);
        shared.pages.remember(address, &stored);
        let html = stored.as_ref().clone();
        return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
    }
    let page = Template::render(LIST_TEMPLATE, context);
    Ok(MaybeSaved(PageOrRedirect::Page(page), saved))
}

const LIST_TEMPLATE: &str = "questions/list";

fn list_query(sort: Sort, window: Window, page: Page) -> ListQuery {
    ListQuery {
        sort,
        window,
        tag_id: None,
        page,
    }
}

#[get("/?<page>")]
async fn hot(
    app: &AppState,
    shared: Shared<'_>,
    view: Viewer,
    track: Tracker,
    page: Option<&str>,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let page = page_of(page, "/")?;
    track.emit(Event::list_view());
    let meta = ListHeading::new(
        "Hot questions".into(),
        "Hot questions",
        "What people are voting on right now.".into(),
        "hot",
        "/".into(),
    )
    .with_site_feed();
    let query = list_query(Sort::Hot, Window::All, page);
    render(app, &shared, &view, Source::List(query), meta).await
}

#[get("/new?<page>")]
async fn new(
    app: &AppState,
    shared: Shared<'_>,
    view: Viewer,
    track: Tracker,
    page: Option<&str>,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let page = page_of(page, "/new")?;
    track.emit(Event::list_view());
    let meta = ListHeading::new(
        "New questions".into(),
        "New questions",
        "The latest questions, newest first.".into(),
        "new",
        "/new".into(),
    )
    .with_site_feed();
    let query = list_query(Sort::New, Window::All, page);
    render(app, &shared, &view, Source::List(query), meta).await
}

#[get("/top?<window>&<page>")]
async fn top(
    app: &AppState,
    shared: Shared<'_>,
    view: Viewer,
    track: Tracker,
    window: Option<&str>,
    page: Option<&str>,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let window = window.filter(|w| !w.is_empty());
    let window = Window::from_query(window).map_err(|_| no_such_window(window))?;
    let page = page_of(page, &format!("/top?window={}", window.as_str()))?;
    track.emit(Event::list_view());
    let label = match window {
        Window::Day => "in the last 24 hours",
        Window::Week => "in the last 7 days",
        Window::Month => "in the last 30 days",
        Window::All => "of all time",
    };
    let meta = ListHeading::new(
        format!("Top questions {label}"),
        "Top questions",
        format!("Most voted questions asked {label}."),
        "top",
        format!("/top?window={}", window.as_str()),
    );
    let query = list_query(Sort::Top, window, page);
    render(app, &shared, &view, Source::List(query), meta).await
}

#[get("/t/<name>?<page>")]
async fn by_tag(
    app: &AppState,
    shared: Shared<'_>,
    view: Viewer,
    track: Tracker,
    name: &str,
    page: Option<&str>,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let page = page_of(page, &TagName::path_of(&truncate(name)))?;
    let tag_name = TagName::from_url(name)
        .ok_or_else(|| AppError::NotFound(format!("There is no tag “{}”.", truncate(name))))?;
    // The page last rendered for this tag, before even the tag is looked up.
    if view.user().is_none() {
        let name = tag_name.as_str().to_string();
        let address = list_address(
            &format!("/t/{name}"),
            "tag",
            Window::All,
            &Some(name),
            &None,
            page,
        );
        if let Some(html) = shared.pages.recent(address, "") {
            track.emit(Event::tag_view(tag_name.as_str()));
            return Ok(MaybeSaved(PageOrRedirect::Html(RawHtml(html)), None));
        }
    }
    let found = reading::tag_named(&app.db, &app.cache, tag_name.clone()).await?;
    let row = found
        .value
        .ok_or_else(|| AppError::NotFound(format!("There is no tag “{}”.", tag_name.as_str())))?;
    track.emit(Event::tag_view(&row.name));
    let meta = ListHeading {
        page_title: format!("Questions tagged {}", row.name),
        heading: format!("#{}", row.name),
        subheading: Some(format!("{} questions", row.question_count)),
        nav: "tags",
        base: TagName::path_of(&row.name),
        tag: Some(row.name.clone()),
        q: None,
        saved: found.saved,
        filters: None,
        feed: Some(FeedLink {
            url: format!("{}/feed.atom", TagName::path_of(&row.name)),
            title: format!("Questions tagged {} on Beebeta", row.name),
        }),
    };
    let mut query = list_query(Sort::Hot, Window::All, page);
    query.tag_id = Some(row.id);
    render(app, &shared, &view, Source::List(query), meta).await
}

/// The address of a list page for [`PageCache::recent`].
fn list_address(
    base: &str,
    sort_name: &str,
    window: Window,
    tag: &Option<String>,
    q: &Option<String>,
    page: Page,
) -> u64 {
    PageCache::address((
        "list",
        base,
        sort_name,
        window.as_str(),
        tag,
        q,
        page.number(),
    ))
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `/top?window=` out of its set: 404, listing the windows there are.
fn no_such_window(given: Option<&str>) -> AppError {
    no_such_option(
        "a period of the top questions",
        given,
        Window::ALL
            .iter()
            .map(|w| Link::new(window_label(*w), format!("/top?window={}", w.as_str()))),
    )
}

/// How a top-list window reads in a link.
fn window_label(w: Window) -> &'static str {
    match w {
        Window::Day => "Last 24 hours",
        Window::Week => "Last 7 days",
        Window::Month => "Last 30 days",
        Window::All => "All time",
    }
}

/// The search page: `q` (words, "quoted phrases", the last word as a prefix), narrowed by `tag`
/// and `status` (open, closed), ordered by `sort` (relevance, new, top).
#[get("/search?<q>&<tag>&<status>&<sort>&<page>")]
#[allow(clippy::too_many_arguments)]
async fn search(
    app: &AppState,
    shared: Shared<'_>,
    view: Viewer,
    ip: ClientIp,
    q: Option<&str>,
    tag: Option<&str>,
    status: Option<&str>,
    sort: Option<&str>,
    page: Option<&str>,
) -> AppResult<MaybeSaved<PageOrRedirect>> {
    let again = || {
        let words = q.unwrap_or("");
        format!(
            "/search?q={}",
            url::form_urlencoded::byte_serialize(words.as_bytes()).collect::<String>()
        )
    };
    let page = page_of(page, &again())?;
    let sort = SearchSort::from_query(sort.filter(|s| !s.is_empty())).map_err(|_| {
        no_such_option(
            "a way to order search results",
            sort,
            SearchSort::ALL.iter().map(|s| {
                let href = format!("{}&sort={}", again(), s.as_str());
                Link::new(format!("Order by {}", s.as_str()), href)
            }),
        )
    })?;
    let status = StatusFilter::from_query(status).map_err(|_| {
        no_such_option(
            "a question status",
            status,
            StatusFilter::ALL.iter().map(|st| {
                let href = format!("{}&status={}", again(), st.as_str());
                Link::new(format!("Only {} questions", st.as_str()), href)
            }),
        )
    })?;
    let tag = match tag.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(TagName::parse(t)?),
        None => None,
    };
    let terms = SearchTerms::parse(q.unwrap_or(""))?;
    let form = SearchForm {
        tag: tag
            .as_ref()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        status: status.map_or("", |s| s.as_str()),
        sort: sort.as_str(),
    };
    let Some(terms) = terms else {
        let page = PageOrRedirect::Page(view.render(
            "questions/list",
            context! {
                page_title: "Search",
                heading: "Search",
                subheading: "Type a few words to find questions by their title, description, choices or tags. Put \"quotes\" around words that belong together.",
                nav: "search", sort: "search", window: "all", items: Vec::<ItemPartial>::new(),
                page: 1, q: "", search_q: "", filters: form, empty_search: true,
            },
        ));
        return Ok(MaybeSaved(page, None));
    };
    app.limits.check(Action::Search, ip.key()).await?;
    // A tag that does not exist narrows to nothing.
    let tag_id = match &tag {
        Some(name) => match reading::tag_named(&app.db, &app.cache, name.clone())
            .await?
            .value
        {
            Some(row) => Some(row.id),
            None => Some(0),
        },
        None => None,
    };
    let text = terms.as_str().to_string();
    let mut base = format!(
        "/search?q={}",
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
    );
    if let Some(t) = &tag {
        base.push_str("&tag=");
        base.extend(url::form_urlencoded::byte_serialize(t.as_str().as_bytes()));
    }
    if let Some(st) = status {
        base.push_str(&format!("&status={}", st.as_str()));
    }
    if sort != SearchSort::Relevance {
        base.push_str(&format!("&sort={}", sort.as_str()));
    }
    let meta = ListHeading {
        saved: None,
        page_title: format!("Search: {text}"),
        heading: "Search results".into(),
        subheading: None,
        nav: "search",
        base,
        tag: None,
        q: Some(text),
        filters: Some(form),
        feed: None,
    };
    let filter = SearchFilter {
        tag_id,
        status,
        window: Window::All,
        sort,
        page,
    };
    render(app, &shared, &view, Source::Search(terms, filter), meta).await
}

#[get("/tags?<page>")]
async fn tags(app: &AppState, view: Viewer, page: Option<&str>) -> AppResult<MaybeSaved<Template>> {
    let page = page_of(page, "/tags")?;
    let Read {
        value: (rows, more),
        saved,
    } = reading::popular_tags(&app.db, &app.cache, page).await?;
    let tags: Vec<_> = rows
        .iter()
        .map(|t| context! { name: &t.name, url: TagName::path_of(&t.name), question_count: t.question_count })
        .collect();
    let page = view.render(
        "tags/index",
        context! {
            page_title: "Tags",
            nav: "tags",
            tags,
            page: page.number(),
            prev_url: page.prev().map(|n| page_url("/tags", n)),
            next_url: if more { page.next().map(|n| page_url("/tags", n)) } else { None },
            saved_copy: saved_note(saved),
        },
    );
    Ok(MaybeSaved(page, saved))
}
