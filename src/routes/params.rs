//! Typed path parameters: a route names `<id>` and gets a parsed [`QuestionId`], never a string
//! to check by hand.

use rocket::http::Status;
use rocket::request::{FromParam, Request};

use crate::domain::QuestionId;

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
