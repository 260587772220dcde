//! Asking and managing questions by HTML form: `/ask`, `/q/<id>/edit`, `/q/<id>/close`,
//! `/q/<id>/delete`. Choice rows are added and removed by submit buttons, so no JavaScript is
//! needed.

use std::collections::BTreeMap;

use rocket::form::{Contextual, FromForm};
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::analytics::{Event, Tracker};
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::{CurrentUser, Voter};
use crate::domain::QuestionTitle;
use crate::domain::draft::CHOICES;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::limits::Action;
use crate::media::{PublicImage, UploadRefusal};
use crate::models;
use crate::routes::accounts::FormOutcome;
use crate::routes::destructive::{ConfirmForm, Confirmation};
use crate::routes::params::Qid;
use crate::routes::uploads::{FileField, read_file};
use crate::routes::viewer::Viewer;
use crate::services::asking::{self, OwnQuestion, RawQuestion};
use crate::services::uploads;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![ask_form, ask, edit_form, edit, close, delete]
}

/// The ask/edit form as submitted (`multipart/form-data` when it carries images).
#[derive(Debug, FromForm)]
pub struct AskForm<'r> {
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
    /// Ranked questions: most choices a voter may rank (blank: all).
    #[field(default = String::new())]
    max_ranks: String,
    #[field(default = String::new())]
    closes_at: String,
    #[field(default = String::from("always"))]
    results_visibility: String,
    #[field(default = String::from("browser"))]
    duplicate_protection: String,
    /// The breakdowns checkbox: a hidden `0` before the box's `1`, so the last value is the
    /// choice; none at all (a client without the field) is on.
    breakdowns: Vec<String>,
    /// The question's image: a newly chosen file.
    image: Option<FileField<'r>>,
    /// The question's image already uploaded (carried when the form is shown again).
    #[field(default = String::new())]
    image_id: String,
    /// Each choice's newly chosen image file, in choice order.
    choice_image: Vec<FileField<'r>>,
    /// Each choice's image already uploaded ("" for none), in choice order.
    choice_image_id: Vec<String>,
    /// Upload ids whose "remove image" box is ticked.
    remove_image: Vec<String>,
}

csrf_protected!(AskForm<'_>);

/// The ask/edit form as it arrived: whole, or cut short when the body was over the upload limit
/// (a 30 MB image); the fields before the cut are kept, so the form comes back as it was typed.
pub type Received<'r> = Contextual<'r, AskForm<'r>>;

impl<'r> crate::auth::CsrfProtected for Received<'r> {
    fn csrf_token(&self) -> &str {
        match &self.value {
            Some(form) => form.csrf_token.as_deref().unwrap_or(""),
            None => self.context.field_value("csrf_token").unwrap_or(""),
        }
    }

    fn cut_at_limit(&self) -> bool {
        over_limit(&self.context)
    }
}

/// Whether the body was cut off at the `data-form` limit.
fn over_limit(context: &rocket::form::Context<'_>) -> bool {
    context.errors().any(crate::auth::csrf::cut_at_limit)
}

/// The form to work with, and — when it was cut short — why (status and message).
fn unpack<'r>(received: Received<'r>, app: &AppState) -> (AskForm<'r>, Option<(Status, String)>) {
    let Contextual { value, context } = received;
    let cut = over_limit(&context);
    if let Some(form) = value.filter(|_| !cut) {
        return (form, None);
    }
    let one = |name: &str| context.field_value(name).unwrap_or("").to_string();
    let many = |name: &str| context.field_values(name).map(str::to_string).collect();
    let form = AskForm {
        csrf_token: None,
        action: None,
        title: one("title"),
        description: one("description"),
        choice: many("choice"),
        tags: one("tags"),
        kind: context.field_value("kind").unwrap_or("single").to_string(),
        min_choices: one("min_choices"),
        max_choices: one("max_choices"),
        max_ranks: one("max_ranks"),
        closes_at: one("closes_at"),
        results_visibility: context
            .field_value("results_visibility")
            .unwrap_or("always")
            .to_string(),
        duplicate_protection: context
            .field_value("duplicate_protection")
            .unwrap_or("browser")
            .to_string(),
        breakdowns: many("breakdowns"),
        image: None,
        image_id: one("image_id"),
        choice_image: Vec::new(),
        choice_image_id: many("choice_image_id"),
        remove_image: Vec::new(),
    };
    let limits = app.media.limits();
    let problem = if cut {
        (
            Status::PayloadTooLarge,
            format!(
                "The form was too large to send: at most {} MB with its images, {} MB an \
                 image. Choose a smaller image, and check the fields after it, which may not \
                 have arrived.",
                app.config.media.upload_request_max_bytes / (1024 * 1024),
                limits.max_bytes / (1024 * 1024)
            ),
        )
    } else {
        let what = context
            .errors()
            .next()
            .map(|e| e.to_string())
            .unwrap_or_default();
        (
            Status::BadRequest,
            format!("The form could not be read ({what}). Please check it and send it again."),
        )
    };
    (form, Some(problem))
}

impl<'r> AskForm<'r> {
    fn blank() -> AskForm<'r> {
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
            max_ranks: String::new(),
            closes_at: String::new(),
            results_visibility: "always".into(),
            duplicate_protection: "browser".into(),
            breakdowns: vec!["1".into()],
            image: None,
            image_id: String::new(),
            choice_image: Vec::new(),
            choice_image_id: Vec::new(),
            remove_image: Vec::new(),
        }
    }

    /// Upload ids shown in the form (for their previews).
    fn upload_ids(&self) -> Vec<String> {
        std::iter::once(&self.image_id)
            .chain(self.choice_image_id.iter())
            .filter(|id| crate::domain::UploadId::parse(id).is_ok())
            .cloned()
            .collect()
    }

    fn raw(&self) -> RawQuestion {
        RawQuestion {
            title: self.title.clone(),
            description: self.description.clone(),
            choices: self.choice.clone(),
            choice_images: self
                .choice_image_id
                .iter()
                .map(|id| Some(id.clone()).filter(|id| !id.is_empty()))
                .collect(),
            image: Some(self.image_id.clone()).filter(|id| !id.is_empty()),
            tags: self
                .tags
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            kind: self.kind.clone(),
            min_choices: Some(self.min_choices.clone()),
            max_choices: Some(match self.kind.as_str() {
                "ranked" => self.max_ranks.clone(),
                _ => self.max_choices.clone(),
            }),
            closes_at: asking::parse_time(&self.closes_at),
            results_visibility: self.results_visibility.clone(),
            duplicate_protection: self.duplicate_protection.clone(),
            breakdowns: self.breakdowns_on(),
        }
    }

    /// Whether the breakdowns box is ticked (see `breakdowns`).
    fn breakdowns_on(&self) -> bool {
        self.breakdowns.last().is_none_or(|v| v != "0")
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

struct FormPage<'a, 'r> {
    mode: &'static str,
    action: String,
    heading: &'static str,
    form: &'a AskForm<'r>,
    errors: &'a FieldErrors,
    previews: &'a Previews,
    max_upload_mb: usize,
}

/// Thumbnails of the images already uploaded into the form, by upload id.
type Previews = BTreeMap<String, PublicImage>;

/// One choice row of the form.
#[derive(serde::Serialize)]
struct ChoiceField<'a> {
    label: &'a str,
    image_id: &'a str,
    image: Option<&'a PublicImage>,
}

fn render(app: &AppState, viewer: &Viewer, voter: &Voter, p: FormPage<'_, '_>) -> Template {
    let f = p.form;
    let mut choices: Vec<ChoiceField<'_>> = f
        .choice
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let image_id = f.choice_image_id.get(i).map(String::as_str).unwrap_or("");
            ChoiceField {
                label,
                image_id,
                image: p.previews.get(image_id),
            }
        })
        .collect();
    choices.truncate(*CHOICES.end());
    while choices.len() < *CHOICES.start() {
        choices.push(ChoiceField {
            label: "",
            image_id: "",
            image: None,
        });
    }
    let n = choices.len();
    viewer.render(
        "ask/form",
        context! {
            page_title: p.heading,
            nav: "ask",
            csrf_token: voter.csrf_token(&app.keys),
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
                max_ranks: &f.max_ranks,
                closes_at: &f.closes_at,
                results_visibility: &f.results_visibility,
                duplicate_protection: &f.duplicate_protection,
                breakdowns: f.breakdowns_on(),
                image_id: &f.image_id,
                image: p.previews.get(&f.image_id),
            },
            max_upload_mb: p.max_upload_mb,
            title_min: QuestionTitle::MIN_CHARS,
            title_max: QuestionTitle::MAX_CHARS,
            errors: serde_json::to_value(p.errors).unwrap_or_default(),
            max_choices_allowed: *CHOICES.end(),
            can_add_choice: n < *CHOICES.end(),
            can_remove_choice: n > *CHOICES.start(),
        },
    )
}

/// Applies an add/remove-row step; `None` means "submit".
fn apply_step(form: &mut AskForm<'_>) -> Option<()> {
    form.choice_image_id
        .resize(form.choice.len(), String::new());
    match step(form.action.as_deref()) {
        Step::Submit => None,
        Step::Add => {
            if form.choice.len() < *CHOICES.end() {
                form.choice.push(String::new());
                form.choice_image_id.push(String::new());
            }
            Some(())
        }
        Step::Remove(i) => {
            if form.choice.len() > *CHOICES.start() && i < form.choice.len() {
                form.choice.remove(i);
                form.choice_image_id.remove(i);
            }
            Some(())
        }
    }
}

/// Stores the images chosen in the form and applies the "remove image" boxes, so the form
/// carries upload ids from here on (a form shown again keeps its images without re-uploading).
/// Problems are keyed `image` and `choices`.
async fn take_images(
    app: &AppState,
    form: &mut AskForm<'_>,
    user_id: i64,
) -> AppResult<FieldErrors> {
    let mut problems = FieldErrors::new();
    let media = &app.media;
    form.choice_image_id
        .resize(form.choice.len(), String::new());
    let max = media.limits().max_bytes;
    let store = async |field: &FileField<'_>| -> AppResult<Result<Option<String>, UploadRefusal>> {
        let bytes = match read_file(field, max).await {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Ok(None)),
            Err(r) => return Ok(Err(r)),
        };
        app.limits
            .check(Action::Upload, Some(format!("u:{user_id}")))
            .await?;
        Ok(uploads::store(media, &app.db, user_id, bytes)
            .await?
            .map(|image| Some(image.id)))
    };
    if let Some(field) = &form.image {
        match store(field).await? {
            Ok(Some(id)) => form.image_id = id,
            Ok(None) => {}
            Err(r) => {
                problems.insert("image", r.to_string());
            }
        }
    }
    for (i, field) in form.choice_image.iter().enumerate() {
        if i >= form.choice_image_id.len() {
            break;
        }
        match store(field).await? {
            Ok(Some(id)) => form.choice_image_id[i] = id,
            Ok(None) => {}
            Err(r) => {
                problems
                    .entry("choices")
                    .or_insert(format!("The image of choice {}: {r}", i + 1));
            }
        }
    }
    for id in std::mem::take(&mut form.remove_image) {
        if form.image_id == id {
            form.image_id.clear();
        }
        for c in form.choice_image_id.iter_mut().filter(|c| **c == id) {
            c.clear();
        }
    }
    Ok(problems)
}

/// Thumbnails of the uploads a form refers to.
async fn previews(app: &AppState, form: &AskForm<'_>) -> AppResult<Previews> {
    let ids = form.upload_ids();
    if ids.is_empty() {
        return Ok(Previews::new());
    }
    let found = app
        .db
        .run(move |c| Ok(models::media::find_many(c, &ids)?))
        .await?;
    Ok(found
        .into_iter()
        .map(|(id, image)| (id, app.media.view(&image)))
        .collect())
}

/// The asking form; `title` fills the title in (the search page's "Ask it" after a miss).
#[get("/ask?<title>")]
async fn ask_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    title: Option<&str>,
) -> Template {
    let _ = user;
    let mut form = AskForm::blank();
    if let Some(t) = title {
        // Only a starting point: the form checks the title when it is sent.
        form.title = t.trim().chars().take(200).collect();
    }
    let page = FormPage {
        mode: "ask",
        action: "/ask".into(),
        heading: "Ask a question",
        form: &form,
        errors: &FieldErrors::new(),
        previews: &Previews::new(),
        max_upload_mb: app.media.limits().max_bytes / (1024 * 1024),
    };
    render(app, &viewer, &voter, page)
}

/// What a submitted ask/edit form is for.
struct Target {
    mode: &'static str,
    action: String,
    heading: &'static str,
}

/// Handles a submitted ask or edit form: images first (so a form shown again keeps them),
/// then add/remove-row steps, then the save itself (`save`), re-showing the form on problems.
async fn submit<'r, F, Fut>(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    user: &CurrentUser,
    target: Target,
    received: Received<'r>,
    save: F,
) -> AppResult<FormOutcome>
where
    F: FnOnce(RawQuestion) -> Fut,
    Fut: std::future::Future<Output = AppResult<(String, &'static str)>>,
{
    let (mut f, cut) = unpack(received, app);
    let image_problems = take_images(app, &mut f, user.user.id).await?;
    let stepped = apply_step(&mut f).is_some();
    let problems = if let Some((_, why)) = &cut {
        // Shown again as it arrived; nothing is saved from a form that did not arrive whole.
        FieldErrors::from([("image", why.clone())])
    } else if !image_problems.is_empty() {
        let mut p = asking::validate(&f.raw(), user.user.id, models::now())
            .err()
            .unwrap_or_default();
        p.extend(image_problems);
        p
    } else if stepped {
        FieldErrors::new()
    } else {
        match save(f.raw()).await {
            Ok((path, message)) => {
                return Ok(FormOutcome::Flash(Flash::success(
                    Redirect::to(path),
                    message,
                )));
            }
            Err(AppError::Validation { fields, .. }) => fields,
            Err(e) => return Err(e),
        }
    };
    let previews = previews(app, &f).await?;
    let status = match (&cut, problems.is_empty()) {
        (Some((status, _)), _) => *status,
        (None, true) => Status::Ok,
        (None, false) => Status::UnprocessableEntity,
    };
    let page = FormPage {
        mode: target.mode,
        action: target.action,
        heading: target.heading,
        form: &f,
        errors: &problems,
        previews: &previews,
        max_upload_mb: app.media.limits().max_bytes / (1024 * 1024),
    };
    Ok(FormOutcome::Form((
        status,
        render(app, viewer, voter, page),
    )))
}

#[post("/ask", data = "<form>")]
async fn ask(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    track: Tracker,
    form: CsrfForm<Received<'_>>,
) -> AppResult<FormOutcome> {
    let uid = user.user.id;
    let target = Target {
        mode: "ask",
        action: "/ask".into(),
        heading: "Ask a question",
    };
    let save = async |raw: RawQuestion| -> AppResult<(String, &'static str)> {
        app.limits
            .check(Action::Ask, Some(format!("u:{uid}")))
            .await?;
        let (qid, path) = asking::create(&app.db, &app.cache, raw, uid).await?;
        track.emit(Event::question_asked(qid));
        Ok((path, "Your question is live."))
    };
    submit(app, &viewer, &voter, &user, target, form.0, save).await
}

#[get("/q/<id>/edit")]
async fn edit_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    id: Qid,
) -> AppResult<Template> {
    let OwnQuestion {
        question: q,
        choices,
        tags,
    } = asking::own(&app.db, id.get(), user.user.id).await?;
    if q.vote_count > 0 {
        return Err(crate::domain::ManageRefusal::HasVotes.into());
    }
    let form = AskForm {
        title: q.title.clone(),
        description: q.description.clone().unwrap_or_default(),
        choice: choices.iter().map(|c| c.label.clone()).collect(),
        choice_image_id: choices
            .iter()
            .map(|c| c.image_id.clone().unwrap_or_default())
            .collect(),
        image_id: q.image_id.clone().unwrap_or_default(),
        tags: tags.join(", "),
        kind: q.kind.clone(),
        min_choices: q.min_choices.to_string(),
        max_choices: q.max_choices.to_string(),
        max_ranks: q.max_choices.to_string(),
        closes_at: q
            .closes_at
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        results_visibility: q.results_visibility.clone(),
        duplicate_protection: q.protection.clone(),
        breakdowns: vec![if q.breakdowns { "1" } else { "0" }.into()],
        ..AskForm::blank()
    };
    let previews = previews(app, &form).await?;
    let page = FormPage {
        mode: "edit",
        action: format!("/q/{id}/edit", id = id.get()),
        heading: "Edit your question",
        form: &form,
        errors: &FieldErrors::new(),
        previews: &previews,
        max_upload_mb: app.media.limits().max_bytes / (1024 * 1024),
    };
    Ok(render(app, &viewer, &voter, page))
}

#[post("/q/<id>/edit", data = "<form>")]
async fn edit(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    id: Qid,
    form: CsrfForm<Received<'_>>,
) -> AppResult<FormOutcome> {
    let (id, uid) = (id.get(), user.user.id);
    let target = Target {
        mode: "edit",
        action: format!("/q/{id}/edit"),
        heading: "Edit your question",
    };
    let save = async |raw: RawQuestion| -> AppResult<(String, &'static str)> {
        let path = asking::edit(&app.db, &app.cache, id, raw, uid).await?;
        Ok((path, "Your changes are saved."))
    };
    submit(app, &viewer, &voter, &user, target, form.0, save).await
}

#[post("/q/<id>/close", data = "<form>")]
async fn close(
    app: &AppState,
    viewer: Viewer,
    user: CurrentUser,
    track: Tracker,
    id: Qid,
    form: CsrfForm<ConfirmForm>,
) -> AppResult<FormOutcome> {
    let form = form.0;
    if !form.confirmed() {
        let q = asking::own(&app.db, id.get(), user.user.id).await?.question;
        return Ok(Confirmation {
            heading: "Close voting now?".into(),
            consequence: format!(
                "“{}” will take no more votes, and its results become final. This cannot be undone.",
                q.title
            ),
            action: format!("/q/{}/close", q.id),
            yes: "Close voting".into(),
            cancel: q.path(),
            fields: vec![("csrf_token".into(), form.token().into())],
        }
        .page(&viewer));
    }
    let path = asking::close(&app.db, &app.cache, id.get(), user.user.id).await?;
    track.emit(Event::question_closed(id.get()));
    Ok(FormOutcome::Flash(Flash::success(
        Redirect::to(path),
        "Voting is closed; the results are final.",
    )))
}

#[post("/q/<id>/delete", data = "<form>")]
async fn delete(
    app: &AppState,
    viewer: Viewer,
    user: CurrentUser,
    id: Qid,
    form: CsrfForm<ConfirmForm>,
) -> AppResult<FormOutcome> {
    let form = form.0;
    let q = asking::own(&app.db, id.get(), user.user.id).await?.question;
    if !form.confirmed() {
        return Ok(Confirmation {
            heading: "Delete this question?".into(),
            consequence: format!(
                "“{}” will disappear from the site for everyone, with its results.",
                q.title
            ),
            action: format!("/q/{}/delete", q.id),
            yes: "Delete the question".into(),
            cancel: q.path(),
            fields: vec![("csrf_token".into(), form.token().into())],
        }
        .page(&viewer));
    }
    asking::delete(&app.db, &app.cache, id.get(), user.user.id).await?;
    Ok(FormOutcome::Flash(Flash::success(
        Redirect::to(format!("/u/{}", user.user.username)),
        format!("Your question “{}” was deleted.", q.title),
    )))
}
