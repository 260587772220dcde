//! Property tests (proptest) on every parser of untrusted input in the domain: whatever a client
//! sends, a parser answers Ok or a refusal, never panics, and what it accepts keeps its promises
//! (lengths, alphabets, ranges). Long and odd Unicode (combining marks, full-width forms, controls,
//! right-to-left marks, lone surrogates are impossible in `&str`) is part of the input space.

use beebeta_domain::{
    BallotChoices, BallotRules, ChoiceLabel, Description, DraftInput, Email, Kind, NewPassword,
    Page, Protection, QuestionDraft, QuestionTitle, ResultsVisibility, Scopes, SearchQuery, Sort,
    TagName, TokenLifetime, Username, Window, login_fold, login_nfkc,
};
use beebeta_domain::{QuestionId, UploadId};
use chrono::NaiveDateTime;
use proptest::prelude::*;

/// Any text a form field may carry: mostly short, sometimes very long, any characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => ".{0,80}",
        2 => "[ -~]{0,40}",
        1 => "\\PC{0,3000}",
        1 => proptest::collection::vec(any::<char>(), 0..200).prop_map(|v| v.into_iter().collect()),
    ]
}

fn now() -> NaiveDateTime {
    NaiveDateTime::parse_from_str("2026-12-05 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn usernames(s in text()) {
        if let Ok(u) = Username::parse(&s) {
            let n = u.as_str().chars().count();
            prop_assert!((3..=32).contains(&n));
            prop_assert!(u.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        }
    }

    #[test]
    fn emails(s in text()) {
        if let Ok(e) = Email::parse(&s) {
            prop_assert!(e.as_str().len() <= 254);
            prop_assert!(e.as_str().contains('@'));
            prop_assert!(!e.as_str().chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn passwords(p in text(), u in text(), e in text()) {
        if NewPassword::parse(&p, &u, &e).is_ok() {
            let n = p.chars().count();
            prop_assert!((NewPassword::MIN_CHARS..=1024).contains(&n));
        }
    }

    #[test]
    fn login_spellings(s in text()) {
        let folded = login_fold(&s);
        prop_assert_eq!(login_fold(&folded), folded.clone(), "folding is idempotent");
        let _ = login_nfkc(&s);
    }

    #[test]
    fn texts(s in text()) {
        if let Ok(t) = QuestionTitle::parse(&s) {
            prop_assert!(t.as_str().chars().count() <= 200);
            prop_assert!(!t.as_str().chars().any(char::is_control), "no control characters");
        }
        if let Ok(Some(d)) = Description::parse(&s) {
            prop_assert!(d.as_str().chars().count() <= 5000);
            prop_assert!(d.as_str().chars().all(|c| matches!(c, '\n' | '\t') || !c.is_control()));
        }
        if let Ok(l) = ChoiceLabel::parse(&s) {
            prop_assert!(!l.as_str().chars().any(char::is_control), "no control characters");
        }
        if let Ok(t) = TagName::parse(&s) {
            prop_assert!(!t.as_str().is_empty() && t.as_str().chars().count() <= 32);
            // A stored tag typed again (the edit form shows them) is itself, never refused.
            prop_assert_eq!(TagName::parse(t.as_str()).unwrap(), t.clone());
            prop_assert!(!TagName::loses_edges(t.as_str()), "{:?} loses its edges", t);
        }
        if let Ok(Some(q)) = SearchQuery::parse(&s) {
            prop_assert!(q.as_str().chars().count() <= 200);
        }
    }

    #[test]
    fn query_parameters(s in text()) {
        let _ = Sort::from_query(Some(&s));
        let _ = Window::from_query(Some(&s));
        if let Ok(p) = Page::from_query(Some(&s)) {
            prop_assert!(p.number() >= 1);
        }
        if let Some(id) = QuestionId::parse(&s) {
            prop_assert!(id.0 > 0);
        }
        if let Ok(u) = UploadId::parse(&s) {
            prop_assert_eq!(u.as_str().len(), 32);
        }
        let _ = Kind::parse(&s);
        let _ = Protection::parse(&s);
        let _ = ResultsVisibility::parse(&s);
    }

    #[test]
    fn token_settings(names in proptest::collection::vec(text(), 0..6), days in text()) {
        if let Ok(scopes) = Scopes::parse(names.iter().map(String::as_str)) {
            let stored = scopes.as_string();
            prop_assert_eq!(Scopes::parse([stored.as_str()]).unwrap(), scopes, "round trip");
        }
        if let Ok(l) = TokenLifetime::parse(&days) {
            prop_assert!((1..=TokenLifetime::MAX_DAYS).contains(&l.days()));
        }
    }

    #[test]
    fn ballots(raw in proptest::collection::vec(text(), 0..40), ids in proptest::collection::vec(any::<i64>(), 0..40), min in 0u32..10, max in 0u32..10) {
        let _ = beebeta_domain::ballot::parse_ids(&raw);
        let choice_ids = [3_i64, 5, 8, 13];
        for kind in [Kind::Single, Kind::Multiple] {
            let rules = BallotRules { kind, min, max, choice_ids: &choice_ids };
            if let Ok(b) = BallotChoices::parse(&ids, &rules) {
                prop_assert!(!b.ids().is_empty());
                prop_assert!(b.ids().iter().all(|id| choice_ids.contains(id)));
                if kind == Kind::Single {
                    prop_assert_eq!(b.ids().len(), 1);
                }
            }
        }
    }

    #[test]
    fn question_drafts(
        title in text(), description in text(), kind in text(), vis in text(), prot in text(),
        choices in proptest::collection::vec(text(), 0..30),
        tags in proptest::collection::vec(text(), 0..12),
        min in proptest::option::of(any::<u32>()), max in proptest::option::of(any::<u32>()),
    ) {
        let input = DraftInput {
            author_id: Some(1),
            title: &title,
            description: &description,
            kind: &kind,
            min_choices: min,
            max_choices: max,
            results_visibility: &vis,
            protection: &prot,
            closes_at: None,
            choices: choices.iter().map(String::as_str).collect(),
            choice_images: Vec::new(),
            image: None,
            tags: tags.iter().map(String::as_str).collect(),
            breakdowns: None,
        };
        if let Ok(d) = QuestionDraft::parse(input, now()) {
            prop_assert!((2..=20).contains(&d.choices.len()), "{} choices", d.choices.len());
        }
    }

    #[test]
    fn report_ranges(window in proptest::option::of(text()), from in proptest::option::of(text()), to in proptest::option::of(text())) {
        let _ = beebeta_domain::report::ReportRange::parse(window.as_deref(), from.as_deref(), to.as_deref(), now());
        if let Some(w) = &window {
            let _ = beebeta_domain::report::ReportWindow::parse(w);
            let _ = beebeta_domain::report::ModerationReason::parse(w);
        }
    }
}
