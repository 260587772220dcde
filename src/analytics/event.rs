//! The typed analytics events and their coarse request context.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// What happened: the event names of the contract (`page_view`, `vote_cast`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventName {
    /// A question, list or tag page was shown.
    PageView,
    /// A new ballot was stored.
    VoteCast,
    /// An existing ballot got different choices.
    VoteChanged,
    /// A ballot was withdrawn.
    VoteWithdrawn,
    /// An account was created.
    Signup,
    /// Someone logged in (password or OAuth).
    Login,
    /// A question was published.
    QuestionAsked,
    /// A question was closed by its author.
    QuestionClosed,
    /// A question was hidden by a moderator (or, pending review, by its flags).
    QuestionHidden,
    /// A visitor flagged a question.
    QuestionFlagged,
}

impl EventName {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::PageView => "page_view",
            EventName::VoteCast => "vote_cast",
            EventName::VoteChanged => "vote_changed",
            EventName::VoteWithdrawn => "vote_withdrawn",
            EventName::Signup => "signup",
            EventName::Login => "login",
            EventName::QuestionAsked => "question_asked",
            EventName::QuestionClosed => "question_closed",
            EventName::QuestionHidden => "question_hidden",
            EventName::QuestionFlagged => "question_flagged",
        }
    }
}

/// Which kind of page a `page_view` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageKind {
    /// A question page.
    Question,
    /// A question list (hot, new, top).
    List,
    /// A tag's question list.
    Tag,
}

impl PageKind {
    fn as_str(self) -> &'static str {
        match self {
            PageKind::Question => "question",
            PageKind::List => "list",
            PageKind::Tag => "tag",
        }
    }
}

/// The browser family, from coarse substrings of the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UaFamily {
    /// Chrome and Chromium-based browsers other than Edge.
    Chrome,
    /// Firefox.
    Firefox,
    /// Safari.
    Safari,
    /// Microsoft Edge.
    Edge,
    /// Crawlers, scripts and HTTP libraries.
    Bot,
    /// Anything else, or no user agent.
    #[default]
    Other,
}

impl UaFamily {
    /// The family of a `User-Agent` header value.
    pub fn of(ua: Option<&str>) -> UaFamily {
        let Some(ua) = ua else {
            return UaFamily::Other;
        };
        let ua = ua.to_ascii_lowercase();
        let has = |s: &str| ua.contains(s);
        if has("bot") || has("spider") || has("crawl") || has("curl") || has("wget") {
            UaFamily::Bot
        } else if has("edg/") || has("edge/") {
            UaFamily::Edge
        } else if has("firefox") || has("fxios") {
            UaFamily::Firefox
        } else if has("chrome") || has("chromium") || has("crios") {
            UaFamily::Chrome
        } else if has("safari") {
            UaFamily::Safari
        } else {
            UaFamily::Other
        }
    }

    /// The family's name.
    pub fn as_str(self) -> &'static str {
        match self {
            UaFamily::Chrome => "chrome",
            UaFamily::Firefox => "firefox",
            UaFamily::Safari => "safari",
            UaFamily::Edge => "edge",
            UaFamily::Bot => "bot",
            UaFamily::Other => "other",
        }
    }
}

/// The domain of a `Referer` header value (never its path or query).
pub fn referrer_domain(referer: Option<&str>) -> Option<String> {
    let url = url::Url::parse(referer?).ok()?;
    url.host_str().map(|h| h.to_ascii_lowercase())
}

/// One analytics event. Built by the constructors below; the request context and `distinct_id`
/// are filled in by the `Tracker` that emits it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened (UTC).
    pub time: DateTime<Utc>,
    /// What happened.
    pub name: EventName,
    /// For `page_view`: which kind of page.
    pub page: Option<PageKind>,
    /// The question concerned.
    pub question_id: Option<i64>,
    /// The choices of a ballot (a ranked ballot: its ranking, most preferred first).
    pub choice_ids: Vec<i64>,
    /// The tag concerned (a tag page), by name: the page may come from the page cache before
    /// the tag is even looked up; the rollup sink resolves names to ids per batch.
    pub tag: Option<String>,
    /// The user concerned (the caller, or the new account).
    pub user_id: Option<i64>,
    /// Who acted, when not the subject (a moderator hiding a question).
    pub actor_id: Option<i64>,
    /// How a login happened: `password` or the OAuth provider's name.
    pub method: Option<String>,
    /// Why a question was flagged (`spam`, ...).
    pub reason: Option<&'static str>,
    /// The user id, else the anonymous voter id, else a random id for this request.
    pub distinct_id: String,
    /// A unique id, so a receiver can drop duplicates.
    pub insert_id: uuid::Uuid,
    /// The route template, e.g. `/q/<id>/<slug>` (never the raw URL).
    pub route: Option<String>,
    /// The referrer's domain.
    pub referrer: Option<String>,
    /// The browser family.
    pub ua: UaFamily,
}

impl Event {
    /// A bare event of `name`, now.
    pub fn new(name: EventName) -> Event {
        Event {
            time: Utc::now(),
            name,
            page: None,
            question_id: None,
            choice_ids: Vec::new(),
            tag: None,
            user_id: None,
            actor_id: None,
            method: None,
            reason: None,
            distinct_id: String::new(),
            insert_id: uuid::Uuid::now_v7(),
            route: None,
            referrer: None,
            ua: UaFamily::Other,
        }
    }

    fn page(kind: PageKind) -> Event {
        Event {
            page: Some(kind),
            ..Event::new(EventName::PageView)
        }
    }

    /// A question page was shown.
    pub fn question_view(question_id: i64) -> Event {
        Event {
            question_id: Some(question_id),
            ..Event::page(PageKind::Question)
        }
    }

    /// A list page (hot, new, top) was shown.
    pub fn list_view() -> Event {
        Event::page(PageKind::List)
    }

    /// A tag page was shown.
    pub fn tag_view(tag: &str) -> Event {
        Event {
            tag: Some(tag.to_string()),
            ..Event::page(PageKind::Tag)
        }
    }

    fn vote(name: EventName, question_id: i64, choices: &[i64]) -> Event {
        Event {
            question_id: Some(question_id),
            choice_ids: choices.to_vec(),
            ..Event::new(name)
        }
    }

    /// A new ballot with these choices.
    pub fn vote_cast(question_id: i64, choices: &[i64]) -> Event {
        Event::vote(EventName::VoteCast, question_id, choices)
    }

    /// A ballot now holds these (different) choices.
    pub fn vote_changed(question_id: i64, choices: &[i64]) -> Event {
        Event::vote(EventName::VoteChanged, question_id, choices)
    }

    /// A ballot was withdrawn.
    pub fn vote_withdrawn(question_id: i64) -> Event {
        Event::vote(EventName::VoteWithdrawn, question_id, &[])
    }

    /// An account was created.
    pub fn signup(user_id: i64) -> Event {
        Event {
            user_id: Some(user_id),
            ..Event::new(EventName::Signup)
        }
    }

    /// A user logged in by `method` (`password`, or the OAuth provider).
    pub fn login(user_id: i64, method: &str) -> Event {
        Event {
            user_id: Some(user_id),
            method: Some(method.to_string()),
            ..Event::new(EventName::Login)
        }
    }

    /// A question was published.
    pub fn question_asked(question_id: i64) -> Event {
        Event {
            question_id: Some(question_id),
            ..Event::new(EventName::QuestionAsked)
        }
    }

    /// A question was closed.
    pub fn question_closed(question_id: i64) -> Event {
        Event {
            question_id: Some(question_id),
            ..Event::new(EventName::QuestionClosed)
        }
    }

    /// A moderator (`actor_id`) hid a question.
    pub fn question_hidden(question_id: i64, actor_id: i64) -> Event {
        Event {
            question_id: Some(question_id),
            actor_id: Some(actor_id),
            ..Event::new(EventName::QuestionHidden)
        }
    }

    /// The site hid a question pending review: enough trusted accounts flagged it.
    pub fn question_hidden_by_flags(question_id: i64) -> Event {
        Event {
            question_id: Some(question_id),
            ..Event::new(EventName::QuestionHidden)
        }
    }

    /// The caller flagged a question for `reason` (its details are not sent).
    pub fn question_flagged(question_id: i64, reason: crate::domain::FlagReason) -> Event {
        Event {
            question_id: Some(question_id),
            reason: Some(reason.as_str()),
            ..Event::new(EventName::QuestionFlagged)
        }
    }

    /// Fills `distinct_id` when the emitter did not: the user, the actor, or a random id.
    pub(crate) fn ensure_distinct_id(&mut self) {
        if self.distinct_id.is_empty() {
            self.distinct_id = match self.user_id.or(self.actor_id) {
                Some(u) => format!("u:{u}"),
                None => format!("r:{}", uuid::Uuid::new_v4()),
            };
        }
    }

    /// The event's properties (without any token), as sent to the sinks.
    pub fn properties(&self) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("time".into(), json!(self.time.timestamp()));
        p.insert("distinct_id".into(), json!(self.distinct_id));
        p.insert("$insert_id".into(), json!(self.insert_id.to_string()));
        let mut opt = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                p.insert(k.into(), v);
            }
        };
        opt("page", self.page.map(|k| json!(k.as_str())));
        opt("question_id", self.question_id.map(|v| json!(v)));
        opt(
            "choice_ids",
            (!self.choice_ids.is_empty()).then(|| json!(self.choice_ids)),
        );
        opt("tag", self.tag.as_ref().map(|v| json!(v)));
        opt("user_id", self.user_id.map(|v| json!(v)));
        opt("actor_id", self.actor_id.map(|v| json!(v)));
        opt("method", self.method.as_ref().map(|v| json!(v)));
        opt("reason", self.reason.map(|v| json!(v)));
        opt("route", self.route.as_ref().map(|v| json!(v)));
        opt("referrer_domain", self.referrer.as_ref().map(|v| json!(v)));
        p.insert("ua_family".into(), json!(self.ua.as_str()));
        p
    }

    /// `{"event": NAME, "properties": {...}}` (Mixpanel's import format), with `token` added
    /// to the properties when given.
    pub fn to_json(&self, token: Option<&str>) -> Value {
        let mut props = self.properties();
        if let Some(t) = token {
            props.insert("token".into(), json!(t));
        }
        json!({ "event": self.name.as_str(), "properties": props })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_families() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        let edge =
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0";
        let safari = "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
        assert_eq!(UaFamily::of(Some(chrome)), UaFamily::Chrome);
        assert_eq!(UaFamily::of(Some(edge)), UaFamily::Edge);
        assert_eq!(UaFamily::of(Some(safari)), UaFamily::Safari);
        assert_eq!(
            UaFamily::of(Some(
                "Mozilla/5.0 (X11; rv:120.0) Gecko/20100101 Firefox/120.0"
            )),
            UaFamily::Firefox
        );
        assert_eq!(UaFamily::of(Some("Googlebot/2.1")), UaFamily::Bot);
        assert_eq!(UaFamily::of(None), UaFamily::Other);
    }

    #[test]
    fn referrer_is_reduced_to_its_domain() {
        assert_eq!(
            referrer_domain(Some("https://News.Example.com/item?id=1#x")).as_deref(),
            Some("news.example.com")
        );
        assert_eq!(referrer_domain(Some("not a url")), None);
        assert_eq!(referrer_domain(None), None);
    }

    #[test]
    fn json_has_the_contract_fields() {
        let mut e = Event::vote_cast(7, &[3]);
        e.ensure_distinct_id();
        let v = e.to_json(Some("tok"));
        assert_eq!(v["event"], "vote_cast");
        assert_eq!(v["properties"]["question_id"], 7);
        assert_eq!(v["properties"]["token"], "tok");
        assert!(
            v["properties"]["distinct_id"]
                .as_str()
                .unwrap()
                .starts_with("r:")
        );
        assert_eq!(
            v["properties"]["$insert_id"].as_str().unwrap(),
            e.insert_id.to_string()
        );
    }
}
