//! Asking and managing questions by HTML form: `/ask`, `/q/<id>/edit`, `/q/<id>/close`,
//! `/q/<id>/delete`. Choice rows are added and removed by submit buttons, so no JavaScript is
//! needed.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash as FlashRedirect, Redirect};
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::csrf::{CsrfForm, CsrfProtected};
use crate::auth::{CurrentUser, Keys, Voter};
use crate::cache::Cache;
use crate::db::Db;
use crate::domain::draft::CHOICES;
use crate::error::{AppError, AppResult};
use crate::limits::{Action, Limits};
use crate::models::{self, choice, question};
use crate::routes::accounts::{FormOutcome, TokenForm};
use crate::routes::questions::parse_id;
use crate::routes::viewer::Viewer;
use crate::services::asking::{self, Problems, RawQuestion};
use crate::services::reading;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![ask_form, ask, edit_form, edit, close, delete]
}

/// The ask/edit form as submitted.
#[derive(Debug, Clone, FromForm)]
pub struct AskForm {
    csrf_token: Option<String>,
    action: Option<String>,
    #[field(default = String::new())]
    title: String,
    #[field(default = String::new())]
    description: String,
    choice: Vec<String>,
    #[field(default = String::new())]
    tags: String,
    #[field(default = String::from("single"))]
    kind: String,
    #[field(default = String::new())]
    min_choices: String,
    #[field(default = String::new())]
    max_choices: String,
    #[field(default = String::new())]
    closes_at: String,
    #[field(default = String::from("always"))]
    results_visibility: String,
    #[field(default = String::from("browser"))]
    duplicate_protection: String,
}

impl CsrfProtected for AskForm {
    fn csrf_token(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

impl AskForm {
    fn blank() -> AskForm {
        AskForm {
            csrf_token: None,
            action: None,
            title: String::new(),
            description: String::new(),
            choice: vec![String::new(), String::new()],
            tags: String::new(),
            kind: "single".into(),
            min_choices: String::new(),
            max_choices: String::new(),
            closes_at: String::new(),
            results_visibility: "always".into(),
            duplicate_protection: "browser".into(),
        }
    }

    fn raw(&self) -> RawQuestion {
        RawQuestion {
            title: self.title.clone(),
            description: self.description.clone(),
            choices: self.choice.clone(),
            tags: self
                .tags
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            kind: self.kind.clone(),
            min_choices: Some(self.min_choices.clone()),
            max_choices: Some(self.max_choices.clone()),
            closes_at: asking::parse_time(&self.closes_at),
            results_visibility: self.results_visibility.clone(),
            duplicate_protection: self.duplicate_protection.clone(),
        }
    }
}

enum Step {
    Submit,
    Add,
    Remove(usize),
}

fn step(action: Option<&str>) -> Step {
    match action {
        Some("add_choice") => Step::Add,
        Some(a) if a.starts_with("remove_choice:") => a["remove_choice:".len()..]
            .parse()
            .map(Step::Remove)
            .unwrap_or(Step::Submit),
        _ => Step::Submit,
    }
}

struct FormPage<'a> {
    mode: &'static str,
    action: String,
    heading: &'static str,
    form: &'a AskForm,
    errors: &'a Problems,
}

fn render(viewer: &Viewer, voter: &Voter, keys: &Keys, p: FormPage<'_>) -> Template {
    let f = p.form;
    let mut choices = f.choice.clone();
    choices.truncate(*CHOICES.end());
    while choices.len() < *CHOICES.start() {
        choices.push(String::new());
    }
    let n = choices.len();
    viewer.render(
        "ask/form",
        context! {
            page_title: p.heading,
            nav: "ask",
            csrf_token: voter.csrf_token(keys),
            mode: p.mode,
            action: p.action,
            heading: p.heading,
            form: context! {
                title: &f.title,
                description: &f.description,
                choices,
                tags: &f.tags,
                kind: &f.kind,
                min_choices: &f.min_choices,
                max_choices: &f.max_choices,
                closes_at: &f.closes_at,
                results_visibility: &f.results_visibility,
                duplicate_protection: &f.duplicate_protection,
            },
            errors: serde_json::to_value(p.errors).unwrap_or_default(),
            max_choices_allowed: *CHOICES.end(),
            can_add_choice: n < *CHOICES.end(),
            can_remove_choice: n > *CHOICES.start(),
        },
    )
}

/// Applies an add/remove-row step; `None` means "submit".
fn apply_step(form: &mut AskForm) -> Option<()> {
    match step(form.action.as_deref()) {
        Step::Submit => None,
        Step::Add => {
            if form.choice.len() < *CHOICES.end() {
                form.choice.push(String::new());
            }
            Some(())
        }
        Step::Remove(i) => {
            if form.choice.len() > *CHOICES.start() && i < form.choice.len() {
                form.choice.remove(i);
            }
            Some(())
        }
    }
}

#[get("/ask")]
async fn ask_form(viewer: Viewer, voter: Voter, keys: &State<Keys>, user: CurrentUser) -> Template {
    let _ = user;
    let form = AskForm::blank();
    let errors = Problems::new();
    let page = FormPage {
        mode: "ask",
        action: "/ask".into(),
        heading: "Ask a question",
        form: &form,
        errors: &errors,
    };
    render(&viewer, &voter, keys, page)
}

#[post("/ask", data = "<form>")]
async fn ask(
    db: &State<Db>,
    cache: &State<Cache>,
    keys: &State<Keys>,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    limits: &State<Limits>,
    form: CsrfForm<AskForm>,
) -> AppResult<FormOutcome> {
    let mut f = form.0;
    let page = |f: &AskForm, errors: &Problems, status: Status| {
        let p = FormPage {
            mode: "ask",
            action: "/ask".into(),
            heading: "Ask a question",
            form: f,
            errors,
        };
        FormOutcome::Form((status, render(&viewer, &voter, keys, p)))
    };
    if apply_step(&mut f).is_some() {
        return Ok(page(&f, &Problems::new(), Status::Ok));
    }
    limits.check(Action::Ask, Some(format!("u:{}", user.user.id)))?;
    match asking::create(db, f.raw(), user.user.id).await? {
        Ok((_, path)) => {
            reading::lists_changed(cache).await;
            Ok(FormOutcome::Flash(FlashRedirect::success(
                Redirect::to(path),
                "Your question is live.",
            )))
        }
        Err(problems) => Ok(page(&f, &problems, Status::UnprocessableEntity)),
    }
}

async fn load_own(
    db: &Db,
    id: i64,
    user: &CurrentUser,
) -> AppResult<(question::QuestionRow, Vec<String>, Vec<String>)> {
    let uid = user.user.id;
    db.run(move |c| {
        let q = match question::find_visible(c, id) {
            Ok(q) => q,
            Err(diesel::result::Error::NotFound) => {
                return Err(AppError::NotFound("There is no such question.".into()));
            }
            Err(e) => return Err(e.into()),
        };
        if q.author_id != Some(uid) {
            return Err(asking::manage_error(question::ManageError::NotAuthor));
        }
        let choices = choice::for_question(c, id)?
            .into_iter()
            .map(|c| c.label)
            .collect();
        let tags = models::tag::names_for(c, &[id])?
            .remove(&id)
            .unwrap_or_default();
        Ok((q, choices, tags))
    })
    .await
}

#[get("/q/<id>/edit")]
async fn edit_form(
    db: &State<Db>,
    keys: &State<Keys>,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    id: &str,
) -> AppResult<Template> {
    let id = parse_id(id)?.0;
    let (q, choices, tags) = load_own(db, id, &user).await?;
    if q.vote_count > 0 {
        return Err(asking::manage_error(question::ManageError::HasVotes));
    }
    let form = AskForm {
        csrf_token: None,
        action: None,
        title: q.title.clone(),
        description: q.description.clone().unwrap_or_default(),
        choice: choices,
        tags: tags.join(", "),
        kind: q.kind.clone(),
        min_choices: q.min_choices.to_string(),
        max_choices: q.max_choices.to_string(),
        closes_at: q
            .closes_at
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        results_visibility: q.results_visibility.clone(),
        duplicate_protection: q.protection.clone(),
    };
    let errors = Problems::new();
    let page = FormPage {
        mode: "edit",
        action: format!("/q/{id}/edit"),
        heading: "Edit your question",
        form: &form,
        errors: &errors,
    };
    Ok(render(&viewer, &voter, keys, page))
}

#[post("/q/<id>/edit", data = "<form>")]
async fn edit(
    db: &State<Db>,
    cache: &State<Cache>,
    keys: &State<Keys>,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    id: &str,
    form: CsrfForm<AskForm>,
) -> AppResult<FormOutcome> {
    let id = parse_id(id)?.0;
    let mut f = form.0;
    let action = format!("/q/{id}/edit");
    let page = |f: &AskForm, errors: &Problems, status: Status| {
        let p = FormPage {
            mode: "edit",
            action: action.clone(),
            heading: "Edit your question",
            form: f,
            errors,
        };
        FormOutcome::Form((status, render(&viewer, &voter, keys, p)))
    };
    if apply_step(&mut f).is_some() {
        return Ok(page(&f, &Problems::new(), Status::Ok));
    }
    match asking::edit(db, id, f.raw(), user.user.id).await? {
        Ok(path) => {
            reading::question_changed(cache, id).await;
            Ok(FormOutcome::Flash(FlashRedirect::success(
                Redirect::to(path),
                "Your changes are saved.",
            )))
        }
        Err(problems) => Ok(page(&f, &problems, Status::UnprocessableEntity)),
    }
}

#[post("/q/<id>/close", data = "<form>")]
async fn close(
    db: &State<Db>,
    cache: &State<Cache>,
    user: CurrentUser,
    id: &str,
    form: CsrfForm<TokenForm>,
) -> AppResult<FlashRedirect<Redirect>> {
    let _ = form;
    let id = parse_id(id)?.0;
    let uid = user.user.id;
    let path = db
        .write(move |c| {
            question::close(c, id, uid, models::now()).map_err(asking::manage_error)?;
            Ok(question::find_visible(c, id)?.path())
        })
        .await?;
    reading::question_changed(cache, id).await;
    Ok(FlashRedirect::success(
        Redirect::to(path),
        "Voting is closed; the results are final.",
    ))
}

#[post("/q/<id>/delete", data = "<form>")]
async fn delete(
    db: &State<Db>,
    cache: &State<Cache>,
    user: CurrentUser,
    id: &str,
    form: CsrfForm<TokenForm>,
) -> AppResult<FlashRedirect<Redirect>> {
    let _ = form;
    let id = parse_id(id)?.0;
    let uid = user.user.id;
    let name = user.user.username.clone();
    db.write(move |c| {
        question::soft_delete(c, id, uid, models::now()).map_err(asking::manage_error)
    })
    .await?;
    reading::question_changed(cache, id).await;
    Ok(FlashRedirect::success(
        Redirect::to(format!("/u/{name}")),
        "Your question was deleted.",
    ))
}
