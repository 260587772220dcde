//! A new question, validated as a whole before it is stored.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::{
    ChoiceLabel, Description, Invalid, Kind, Protection, QuestionTitle, ResultsVisibility, TagName,
    UploadId,
};

/// Fewest and most choices a question may have.
pub const CHOICES: std::ops::RangeInclusive<usize> = 2..=10;
/// Latest closing date, in days from now.
pub const MAX_OPEN_DAYS: i64 = 5 * 365;
/// Most tags on a question.
pub const MAX_TAGS: usize = 5;

/// Everything needed to create a question, already validated.
#[derive(Debug, Clone)]
pub struct QuestionDraft {
    /// The asking user, if any.
    pub author_id: Option<i64>,
    /// The title.
    pub title: QuestionTitle,
    /// Optional longer text.
    pub description: Option<Description>,
    /// Single or multiple choice.
    pub kind: Kind,
    /// Fewest choices on a ballot (1 for single choice).
    pub min_choices: u32,
    /// Most choices on a ballot (1 for single choice).
    pub max_choices: u32,
    /// When results may be seen.
    pub results_visibility: ResultsVisibility,
    /// Duplicate-vote protection.
    pub protection: Protection,
    /// When voting ends, if ever.
    pub closes_at: Option<NaiveDateTime>,
    /// The choices in display order.
    pub choices: Vec<ChoiceLabel>,
    /// Each choice's image, in the same order as `choices`.
    pub choice_images: Vec<Option<UploadId>>,
    /// The question's image.
    pub image: Option<UploadId>,
    /// Distinct normalised tags.
    pub tags: Vec<TagName>,
    /// Whether results may be shown broken down by a segment.
    pub breakdowns: bool,
}

impl QuestionDraft {
    /// Every upload the draft refers to.
    pub fn upload_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .image
            .iter()
            .chain(self.choice_images.iter().flatten())
            .map(UploadId::as_str)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Raw input for a [`QuestionDraft`].
#[derive(Debug, Clone, Default)]
pub struct DraftInput<'a> {
    /// The asking user, if any.
    pub author_id: Option<i64>,
    /// Title text.
    pub title: &'a str,
    /// Description text.
    pub description: &'a str,
    /// `single` or `multiple`.
    pub kind: &'a str,
    /// Fewest choices (multiple choice only).
    pub min_choices: Option<u32>,
    /// Most choices (multiple choice), or most ranks (`max_ranks`, ranked choice).
    pub max_choices: Option<u32>,
    /// `always`, `after_vote` or `after_close`.
    pub results_visibility: &'a str,
    /// `browser`, `network` or `account`.
    pub protection: &'a str,
    /// Closing time.
    pub closes_at: Option<NaiveDateTime>,
    /// Choice labels; blank ones are skipped.
    pub choices: Vec<&'a str>,
    /// Upload ids of the choices' images, in the same order as `choices` (may be shorter).
    pub choice_images: Vec<Option<&'a str>>,
    /// Upload id of the question's image.
    pub image: Option<&'a str>,
    /// Tags as typed.
    pub tags: Vec<&'a str>,
    /// Breakdowns on or off; `None` is on (the default).
    pub breakdowns: Option<bool>,
}

impl QuestionDraft {
    /// Validates every field and the rules between them; the first problem found.
    pub fn parse(input: DraftInput<'_>, now: NaiveDateTime) -> Result<QuestionDraft, Invalid> {
        Self::parse_fields(input, now).map_err(|errors| {
            errors
                .into_values()
                .next()
                .unwrap_or_else(|| Invalid::new("invalid", "Invalid question."))
        })
    }

    /// Validates every field, collecting one problem per form field (`title`, `description`,
    /// `kind`, `choices`, `tags`, `limits`, `closes_at`, `results_visibility`,
    /// `duplicate_protection`), so a form can show them all at once.
    pub fn parse_fields(
        input: DraftInput<'_>,
        now: NaiveDateTime,
    ) -> Result<QuestionDraft, BTreeMap<&'static str, Invalid>> {
        let mut errors = BTreeMap::new();
        macro_rules! take {
            ($field:expr, $r:expr $(,)?) => {
                match $r {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errors.entry($field).or_insert(e);
                        None
                    }
                }
            };
        }
        let title = take!("title", QuestionTitle::parse(input.title));
        let description = take!("description", Description::parse(input.description));
        let kind = take!("kind", Kind::parse(input.kind));
        let results_visibility = take!(
            "results_visibility",
            ResultsVisibility::parse(input.results_visibility)
        );
        let protection = take!("duplicate_protection", Protection::parse(input.protection));
        let choices = take!(
            "choices",
            parse_choices(&input.choices, &input.choice_images)
        );
        let image = take!(
            "image",
            input
                .image
                .filter(|s| !s.trim().is_empty())
                .map(UploadId::parse)
                .transpose()
        );
        let tags = take!("tags", parse_tags(&input.tags));
        let limits = match (kind, &choices) {
            (Some(k), Some((c, _))) => take!(
                "limits",
                limits(k, input.min_choices, input.max_choices, c.len() as u32)
            ),
            _ => None,
        };
        let closes_ok = take!(
            "closes_at",
            match input.closes_at {
                Some(t) if t <= now => Err(Invalid::new(
                    "invalid_closes_at",
                    "The closing date must be in the future."
                )),
                // Also keeps clear of MySQL's TIMESTAMP range (2038), which Diesel binds times as.
                Some(t) if t > now + chrono::Duration::days(MAX_OPEN_DAYS) => Err(Invalid::new(
                    "invalid_closes_at",
                    "The closing date must be within 5 years."
                )),
                _ => Ok(()),
            },
        );
        match (
            title,
            description,
            kind,
            results_visibility,
            protection,
            choices,
            tags,
            limits,
            closes_ok,
            image,
        ) {
            (
                Some(title),
                Some(description),
                Some(kind),
                Some(results_visibility),
                Some(protection),
                Some((choices, choice_images)),
                Some(tags),
                Some((min_choices, max_choices)),
                Some(()),
                Some(image),
            ) => Ok(QuestionDraft {
                author_id: input.author_id,
                title,
                description,
                kind,
                min_choices,
                max_choices,
                results_visibility,
                protection,
                closes_at: input.closes_at,
                choices,
                choice_images,
                image,
                tags,
                breakdowns: input.breakdowns.unwrap_or(true),
            }),
            _ => Err(errors),
        }
    }
}

type ChoicesWithImages = (Vec<ChoiceLabel>, Vec<Option<UploadId>>);

fn parse_choices(raw: &[&str], images: &[Option<&str>]) -> Result<ChoicesWithImages, Invalid> {
    if raw.len() > 50 || images.len() > 50 {
        return Err(Invalid::new(
            "invalid_choices",
            "A question needs 2 to 10 choices.",
        ));
    }
    let mut choices: Vec<ChoiceLabel> = Vec::new();
    let mut choice_images: Vec<Option<UploadId>> = Vec::new();
    for (i, raw) in raw.iter().enumerate() {
        let image = images
            .get(i)
            .copied()
            .flatten()
            .filter(|s| !s.trim().is_empty());
        if raw.trim().is_empty() {
            if image.is_some() {
                return Err(Invalid::new(
                    "choice_image_without_label",
                    format!("Choice {} has an image but no label.", i + 1),
                ));
            }
            continue;
        }
        let label = ChoiceLabel::parse(raw)?;
        if choices
            .iter()
            .any(|c| c.as_str().to_lowercase() == label.as_str().to_lowercase())
        {
            return Err(Invalid::new(
                "duplicate_choice",
                format!("The choice “{}” appears twice.", label.as_str()),
            ));
        }
        choices.push(label);
        choice_images.push(image.map(UploadId::parse).transpose()?);
    }
    if !CHOICES.contains(&choices.len()) {
        return Err(Invalid::new(
            "invalid_choices",
            format!(
                "A question needs {} to {} choices.",
                CHOICES.start(),
                CHOICES.end()
            ),
        ));
    }
    Ok((choices, choice_images))
}

/// Tags as typed, each normalised. Two different typed tags never collapse into one silently:
/// when they would become the same tag (`C--` and `C` → `c`, `Café` and `Cafe` → `cafe`), or one
/// loses characters at its start or end (`#C` → `c`), the problem names what was typed and what
/// it would become. The same tag typed twice (equal but for letter case) simply counts once.
fn parse_tags(raw: &[&str]) -> Result<Vec<TagName>, Invalid> {
    let mut tags: Vec<(TagName, Vec<&str>)> = Vec::new();
    for typed in raw.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let tag = TagName::parse(typed)?;
        match tags.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, forms)) => {
                let folded = typed.to_lowercase();
                if !forms.iter().any(|f| f.to_lowercase() == folded) {
                    forms.push(typed);
                }
            }
            None => tags.push((tag, vec![typed])),
        }
        if tags.len() > MAX_TAGS {
            return Err(Invalid::new(
                "too_many_tags",
                format!("A question can have at most {MAX_TAGS} tags."),
            ));
        }
    }
    let problems: Vec<String> = tags
        .iter()
        .filter_map(|(tag, forms)| {
            let tag = tag.as_str();
            match forms.as_slice() {
                [one] if TagName::loses_edges(one) => Some(format!(
                    "“{one}” would become the tag “{tag}”, losing characters at its start or \
                     end: write “{tag}” if you mean that tag, or name it differently."
                )),
                [] | [_] => None,
                [a, b] => Some(format!(
                    "“{a}” and “{b}” would both become the tag “{tag}”: remove one or write \
                     them differently."
                )),
                [rest @ .., last] => Some(format!(
                    "{} and “{last}” would all become the tag “{tag}”: keep one or write them \
                     differently.",
                    rest.iter()
                        .map(|f| format!("“{f}”"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(tags.into_iter().map(|(t, _)| t).collect())
    } else {
        Err(Invalid::new("ambiguous_tags", problems.join(" ")))
    }
}

fn limits(kind: Kind, min: Option<u32>, max: Option<u32>, n: u32) -> Result<(u32, u32), Invalid> {
    match kind {
        Kind::Single => Ok((1, 1)),
        Kind::Multiple => {
            let min = min.unwrap_or(1);
            let max = max.unwrap_or(n);
            if min < 1 || max < min || max > n {
                return Err(Invalid::new(
                    "invalid_choice_limits",
                    format!("Choose limits with 1 ≤ minimum ≤ maximum ≤ {n}."),
                ));
            }
            Ok((min, max))
        }
        Kind::Ranked => {
            // `max` is the question's `max_ranks`: rank all the choices, or only the top N.
            let max = max.unwrap_or(n);
            if max < 2 || max > n {
                return Err(Invalid::new(
                    "invalid_max_ranks",
                    format!("Let voters rank between 2 and {n} choices."),
                ));
            }
            Ok((1, max))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> DraftInput<'static> {
        DraftInput {
            title: "Which season do you like best?",
            kind: "single",
            results_visibility: "always",
            protection: "browser",
            choices: vec!["Spring", "Summer", "", "Autumn"],
            tags: vec!["Seasons", "seasons", "weather"],
            ..Default::default()
        }
    }

    #[test]
    fn valid_draft() {
        let now = chrono::Utc::now().naive_utc();
        let d = QuestionDraft::parse(input(), now).unwrap();
        assert_eq!(d.choices.len(), 3);
        assert_eq!(d.tags.len(), 2);
        assert_eq!((d.min_choices, d.max_choices), (1, 1));
        let mut i = input();
        i.kind = "ranked";
        let d = QuestionDraft::parse(i.clone(), now).unwrap();
        assert_eq!(
            (d.min_choices, d.max_choices),
            (1, 3),
            "rank all by default"
        );
        i.max_choices = Some(2);
        let d = QuestionDraft::parse(i, now).unwrap();
        assert_eq!(d.max_choices, 2, "or the top 2");
    }

    #[test]
    fn invalid_drafts() {
        let now = chrono::Utc::now().naive_utc();
        let mut i = input();
        i.choices = vec!["Only one"];
        assert_eq!(
            QuestionDraft::parse(i, now).unwrap_err().code,
            "invalid_choices"
        );
        let mut i = input();
        i.choices = vec!["Same", "same"];
        assert_eq!(
            QuestionDraft::parse(i, now).unwrap_err().code,
            "duplicate_choice"
        );
        let mut i = input();
        i.kind = "multiple";
        i.min_choices = Some(3);
        i.max_choices = Some(2);
        assert_eq!(
            QuestionDraft::parse(i, now).unwrap_err().code,
            "invalid_choice_limits"
        );
        for max in [Some(1), Some(4)] {
            let mut i = input();
            i.kind = "ranked";
            i.max_choices = max;
            assert_eq!(
                QuestionDraft::parse(i, now).unwrap_err().code,
                "invalid_max_ranks"
            );
        }
        let mut i = input();
        i.tags = vec!["a", "b", "c", "d", "e", "f"];
        assert_eq!(
            QuestionDraft::parse(i, now).unwrap_err().code,
            "too_many_tags"
        );
        let mut i = input();
        i.closes_at = Some(now - chrono::Duration::hours(1));
        assert_eq!(
            QuestionDraft::parse(i, now).unwrap_err().code,
            "invalid_closes_at"
        );
        let mut i = input();
        i.closes_at = Some(now + chrono::Duration::days(MAX_OPEN_DAYS + 1));
        assert_eq!(
            QuestionDraft::parse(i, now).unwrap_err().code,
            "invalid_closes_at"
        );
    }

    fn tags_of(typed: &[&'static str]) -> Result<Vec<String>, Invalid> {
        parse_tags(typed).map(|t| t.iter().map(|t| t.as_str().to_string()).collect())
    }

    #[test]
    fn different_tags_never_collapse_silently() {
        let m = tags_of(&["C--", "C"]).unwrap_err();
        assert_eq!(m.code, "ambiguous_tags");
        assert_eq!(
            m.message,
            "“C--” and “C” would both become the tag “c”: remove one or write them differently."
        );
        let m = tags_of(&["Café", "Cafe", "travel"]).unwrap_err().message;
        assert!(
            m.starts_with("“Café” and “Cafe” would both become the tag “cafe”"),
            "{m}"
        );
        let m = tags_of(&["Hello World", "hello-world", "HELLO_WORLD"])
            .unwrap_err()
            .message;
        assert!(
            m.starts_with("“Hello World”, “hello-world” and “HELLO_WORLD” would all become"),
            "{m}"
        );
        // One tag that loses what told it apart.
        let m = tags_of(&["#C"]).unwrap_err().message;
        assert!(
            m.starts_with("“#C” would become the tag “c”, losing characters"),
            "{m}"
        );
        assert!(tags_of(&["C--"]).is_err());
        // Every problem is named, not just the first.
        let m = tags_of(&["C--", "C", "rust."]).unwrap_err().message;
        assert!(m.contains("“C--” and “C”") && m.contains("“rust.”"), "{m}");
        // The same tag typed twice (case aside) is one tag, without a word.
        assert_eq!(tags_of(&["rust", " Rust ", "go"]).unwrap(), ["rust", "go"]);
        assert_eq!(
            tags_of(&["C++", "c#", ".NET", "Hello World", "Café crème"]).unwrap(),
            ["c++", "c#", ".net", "hello-world", "cafe-creme"]
        );
    }
}
