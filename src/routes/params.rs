//! Typed path parameters: a route names `<id>` and gets a parsed [`QuestionId`], never a string
//! to check by hand.

use rocket::http::Status;
use rocket::request::{FromParam, Request};

use crate::domain::{Page, QuestionId};
use crate::error::{AppError, AppResult, Link};

/// A question id in a route's path (`/q/<id>/...`, `/api/v1/questions/<id>/...`): a positive
/// integer. Anything else makes the route forward (Rocket's 422 for a parameter that does not
/// parse), and the catcher answers that as "there is no such question" (404), as a link to a
/// question that does not exist is ([`is_bad_question_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qid(pub QuestionId);

impl Qid {
    /// The id as stored.
    pub fn get(self) -> i64 {
        self.0.0
    }
}

impl std::ops::Deref for Qid {
    type Target = QuestionId;
    fn deref(&self) -> &QuestionId {
        &self.0
    }
}

impl<'a> FromParam<'a> for Qid {
    type Error = &'a str;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        QuestionId::parse(param).map(Qid).ok_or(param)
    }
}

/// Whether a request failed because a question id in its path is not one: the status is 422 with
/// no reason recorded by a guard, and the last route tried has `<id>` right after `q` or
/// `questions` (`/q/<id>/...`, `/api/v1/questions/<id>/...`, `/admin/questions/<id>/...`) where
/// the request's path has something [`QuestionId::parse`] refuses.
pub fn is_bad_question_id(status: Status, req: &Request<'_>) -> bool {
    if status != Status::UnprocessableEntity {
        return false;
    }
    let Some(route) = req.route() else {
        return false;
    };
    let route_segments = route.uri.path().split('/').filter(|s| !s.is_empty());
    let mut previous = "";
    for (pattern, given) in route_segments.zip(req.uri().path().segments()) {
        if pattern == "<id>" && matches!(previous, "q" | "questions") {
            return QuestionId::parse(given).is_none();
        }
        previous = pattern;
    }
    false
}

/// Whether a path segment is a question id.
pub fn is_question_id(segment: &str) -> bool {
    QuestionId::parse(segment).is_some()
}

/// The `page` of a list at `base`; a value that is not a page (a word, 0, past the deepest page
/// served) is a page that does not exist: 404, pointing at the first page.
pub fn page_of(page: Option<&str>, base: &str) -> AppResult<Page> {
    Page::from_query(page).map_err(|_| AppError::NoSuchPage {
        message: format!(
            "There is no page “{}” of this list: pages are numbered 1 to {}.",
            shorten(page.unwrap_or("")),
            Page::MAX
        ),
        links: vec![Link::new("Go to the first page", base)],
    })
}

/// A list parameter out of its set: a 404 that says what was asked and links what exists.
pub fn no_such_option(
    what: &str,
    given: Option<&str>,
    exists: impl Iterator<Item = Link>,
) -> AppError {
    let links: Vec<Link> = exists.collect();
    let names: Vec<&str> = links.iter().map(|l| l.label.as_str()).collect();
    AppError::NoSuchPage {
        message: format!(
            "“{}” is not {what}. There is: {}.",
            shorten(given.unwrap_or("")),
            names.join(", ")
        ),
        links,
    }
}

/// A parameter as an error message quotes it: its first 40 characters.
fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}
