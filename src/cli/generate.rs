//! `beebeta generate`: a reproducible synthetic data set for benchmarks, loaded in bulk.

use chrono::{Duration, NaiveDateTime};
use diesel::connection::SimpleConnection;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::words::{self, NounCategory};
use crate::db::Db;
use crate::db::write_transaction;
use crate::domain::SearchDocument;
use crate::error::AppResult;
use crate::models::bulk::{self, BulkBallot};
use crate::models::search;
use crate::models::{self, question};

/// Size of a generated data set.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    /// Questions to create.
    pub questions: u64,
    /// Ballots (votes) to create.
    pub votes: u64,
    /// Random seed: the same seed gives the same data.
    pub seed: u64,
}

const TAGS: usize = 60;

/// A string as an SQL literal: the generated text has no quotes, but one would be doubled.
/// Draws ranks `0..n` with weights `1/(rank + 1)`: a Zipf law, by inverse CDF.
struct Zipf {
    /// `cumulative[i]` is the sum of the weights of ranks `0..=i`.
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        assert!(n > 0, "an empty word list");
        let mut acc = 0.0;
        let cumulative = (1..=n)
            .map(|r| {
                acc += 1.0 / r as f64;
                acc
            })
            .collect();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative[self.cumulative.len() - 1];
        let u = rng.r#gen::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }
}

/// A word list with its Zipf sampler: the first words are the common ones.
struct List {
    words: Vec<&'static str>,
    zipf: Zipf,
}

impl List {
    fn new(words: Vec<&'static str>) -> List {
        let zipf = Zipf::new(words.len());
        List { words, zipf }
    }

    fn pick(&self, rng: &mut StdRng) -> &'static str {
        self.words[self.zipf.sample(rng)]
    }

    /// `n` different words (case-insensitively), drawn by frequency; the list is long enough.
    fn distinct(&self, rng: &mut StdRng, n: usize) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::with_capacity(n);
        let fresh = |out: &[&str], w: &str| !out.iter().any(|o| o.eq_ignore_ascii_case(w));
        for _ in 0..n * 20 {
            if out.len() == n {
                break;
            }
            let w = self.pick(rng);
            if fresh(&out, w) {
                out.push(w);
            }
        }
        // Unlikely: fill in rank order.
        for &w in &self.words {
            if out.len() == n {
                break;
            }
            if fresh(&out, w) {
                out.push(w);
            }
        }
        out
    }
}

/// How a question is answered: the labels of its choices.
#[derive(Debug, Clone, Copy)]
enum Answers {
    /// Yes / No (and shades of it).
    YesNo,
    /// The two bracketed parts of the title, then Both / Neither / ...
    Pair,
    /// Every day ... Never.
    Frequency,
    /// Love it ... Hate it.
    Feelings,
    /// Essential ... Not important.
    Importance,
    /// Good / Bad / Neither ...
    GoodBad,
    /// Nouns of the title's subject.
    Things,
    /// Adjectives.
    Adjectives,
    /// Places.
    Places,
}

/// Title templates. `{noun}` is any noun, `{thing}` a noun of the question's subject and
/// `{kind}` the subject's name ("food"), `{adj}`, `{verb}`, `{place}`, `{org}` (EU, WHO) and
/// `{acro}` (AI, 5G) the other lists, `{tail}` an optional ending (" in Paris", " at work")
/// and `{end}` one that is always there (two-word titles repeat too often without);
/// the parts in brackets are the `Pair` choices.
const TITLES: &[(&str, Answers)] = &[
    ("Should {place} ban {adj} {noun}{tail}?", Answers::YesNo),
    (
        "Would you {verb} {adj} {noun} every day{tail}?",
        Answers::YesNo,
    ),
    (
        "Should the {org} regulate {noun} in {place}?",
        Answers::YesNo,
    ),
    ("Is {noun} too {adj} in {place}?", Answers::YesNo),
    (
        "Will {acro} change how we {verb} {noun}{tail}?",
        Answers::YesNo,
    ),
    ("Has {noun} become too {adj}{end}?", Answers::YesNo),
    (
        "Should schools in {place} teach children about {noun} and {noun}?",
        Answers::YesNo,
    ),
    ("Is it time for the {org} to {verb} {noun}?", Answers::YesNo),
    (
        "Do you trust the {org} on {noun} and {noun}?",
        Answers::YesNo,
    ),
    ("Is {adj} {thing} worth the money{tail}?", Answers::YesNo),
    ("Would you {verb} {thing} in {place}?", Answers::YesNo),
    ("Is {acro} making {noun} {adj}{tail}?", Answers::YesNo),
    ("Is [{thing}] better than [{thing}]{tail}?", Answers::Pair),
    (
        "Do you prefer [{adj} {thing}] or [{adj} {thing}]{tail}?",
        Answers::Pair,
    ),
    (
        "[{thing}] or [{thing}]: which would {place} choose?",
        Answers::Pair,
    ),
    (
        "Would you rather [{verb} {noun}] or [{verb} {noun}]?",
        Answers::Pair,
    ),
    (
        "Which would you call {adj}: [{thing}] or [{thing}]?",
        Answers::Pair,
    ),
    ("[{thing}] or [{thing}] for {noun}?", Answers::Pair),
    (
        "Where is {thing} better, [{place}] or [{place}]?",
        Answers::Pair,
    ),
    (
        "How often do you {verb} {adj} {noun}{tail}?",
        Answers::Frequency,
    ),
    (
        "How often do you think about {adj} {noun}{tail}?",
        Answers::Frequency,
    ),
    (
        "How do you feel about {adj} {noun} in {place}?",
        Answers::Feelings,
    ),
    ("What do you think of {adj} {noun}{end}?", Answers::Feelings),
    (
        "What is your take on {adj} {noun} in {place}?",
        Answers::Feelings,
    ),
    (
        "How important is {adj} {noun} to you{end}?",
        Answers::Importance,
    ),
    ("Is {acro} good or bad for {noun}{end}?", Answers::GoodBad),
    ("Is {noun} good or bad for {noun}{tail}?", Answers::GoodBad),
    ("What is the best {kind} for {noun}{tail}?", Answers::Things),
    ("Which {kind} would you call {adj}{tail}?", Answers::Things),
    (
        "What is your favourite {kind} for a {adj} weekend in {place}?",
        Answers::Things,
    ),
    ("Which {kind} would you {verb} first{end}?", Answers::Things),
    (
        "Which {kind} do people in {place} {verb} most?",
        Answers::Things,
    ),
    (
        "How would you describe {noun} to a {adj} friend from {place}?",
        Answers::Adjectives,
    ),
    (
        "Which word best describes {thing} in {place}?",
        Answers::Adjectives,
    ),
    (
        "Where would you go for the best {adj} {thing}?",
        Answers::Places,
    ),
    (
        "Which place should host the next {adj} {thing} festival?",
        Answers::Places,
    ),
];

/// Optional title endings (`{tail}` is one of them half of the time).
const TAILS: &[&str] = &[
    " in {place}",
    " at work",
    " at home",
    " on weekends",
    " in winter",
    " in summer",
    " this year",
    " for kids",
    " with {noun}",
    " without {noun}",
    " in {place} by 2030",
    " for {adj} people",
    " after {noun}",
    " before {noun}",
    " instead of {noun}",
    " if you live in {place}",
    " according to the {org}",
    " now that {acro} is everywhere",
    " on a {adj} day",
    " during {noun}",
];

/// Description sentences, with the titles' placeholders (`{thing}` and `{kind}` are the
/// question's subject).
const SENTENCES: &[&str] = &[
    "{place} is debating whether to ban {noun}.",
    "Some people think {thing} is {adj}, others say it is {adj}.",
    "Think about {noun} and {noun} before you vote.",
    "This question came up during a {adj} discussion about {noun}.",
    "The {org} published a report on {noun} last year.",
    "Prices of {thing} went up in {place} recently.",
    "Many {adj} people {verb} {noun} every week.",
    "Experts disagree about how {acro} will affect {noun}.",
    "Share it with friends who love {thing}.",
    "We asked about {noun} last month and the results were {adj}.",
    "In {place}, {thing} is considered {adj}.",
    "Vote for the option closest to your view, even if it is not perfect.",
    "A recent survey in {place} found that most people {verb} {noun}.",
    "If you have never tried {thing}, pick the answer that fits best.",
    "Bonus points if you can explain why {noun} is so {adj}.",
    "My {adj} neighbour says {noun} will replace {noun} within ten years.",
    "The debate about {noun} has become {adj} in {place}.",
    "Every {kind} has fans, but {thing} seems to divide people the most.",
    "Results are shown after you vote.",
    "Asking for a friend who wants to {verb} {thing}.",
    "The {acro} angle is often forgotten when people talk about {noun}.",
    "Last time I tried to {verb} {noun} in {place} it was {adj}.",
];

/// Fixed answers by number of choices (2 to 6).
const YES_NO: [&[&str]; 5] = [
    &["Yes", "No"],
    &["Yes", "No", "Not sure"],
    &["Yes", "No", "It depends", "Not sure"],
    &[
        "Definitely",
        "Probably",
        "Not sure",
        "Probably not",
        "Definitely not",
    ],
    &[
        "Definitely",
        "Probably",
        "Maybe",
        "Probably not",
        "Definitely not",
        "No opinion",
    ],
];
const PAIR_EXTRAS: &[&str] = &["Both", "Neither", "Not sure", "It depends", "No opinion"];
const FREQUENCY: [&[&str]; 5] = [
    &["Regularly", "Never"],
    &["Often", "Sometimes", "Never"],
    &["Every day", "Every week", "Rarely", "Never"],
    &["Every day", "Every week", "Every month", "Rarely", "Never"],
    &[
        "Every day",
        "Every week",
        "Every month",
        "A few times a year",
        "Rarely",
        "Never",
    ],
];
const FEELINGS: [&[&str]; 5] = [
    &["Love it", "Hate it"],
    &["Like it", "Neutral", "Dislike it"],
    &["Love it", "Like it", "Dislike it", "Hate it"],
    &["Love it", "Like it", "Neutral", "Dislike it", "Hate it"],
    &[
        "Love it",
        "Like it",
        "Neutral",
        "Dislike it",
        "Hate it",
        "Never tried it",
    ],
];
const IMPORTANCE: [&[&str]; 5] = [
    &["Important", "Not important"],
    &["Very important", "Somewhat important", "Not important"],
    &[
        "Essential",
        "Very important",
        "Somewhat important",
        "Not important",
    ],
    &[
        "Essential",
        "Very important",
        "Somewhat important",
        "Not very important",
        "Not at all important",
    ],
    &[
        "Essential",
        "Very important",
        "Somewhat important",
        "Not very important",
        "Not at all important",
        "No opinion",
    ],
];
const GOOD_BAD: [&[&str]; 5] = [
    &["Good", "Bad"],
    &["Good", "Bad", "Neither"],
    &["Good", "Bad", "Both", "Neither"],
    &["Very good", "Good", "Neutral", "Bad", "Very bad"],
    &[
        "Very good",
        "Good",
        "Neutral",
        "Bad",
        "Very bad",
        "Too early to tell",
    ],
];

/// The generated text of one question.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    title: String,
    description: Option<String>,
    labels: Vec<String>,
}

/// The word lists with their samplers.
struct Vocab {
    /// Every noun, the subjects interleaved by rank (the first of each subject, then the
    /// second...), so the common nouns are the common ones of every subject.
    nouns: List,
    /// Per subject: its name and nouns.
    subjects: Vec<(&'static str, List)>,
    adjectives: List,
    verbs: List,
    places: List,
    organizations: List,
    acronyms: List,
}

/// The first character in uppercase.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "a" before a vowel becomes "an" ("an iced coffee"; "a useful one" stays).
fn articles(s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let next = words.get(i + 1).copied().unwrap_or("");
        let vowel = next.starts_with(['a', 'e', 'i', 'o', 'u']) && !next.starts_with("use");
        match *w {
            "a" if vowel => out.push_str("an"),
            "A" if vowel => out.push_str("An"),
            w => out.push_str(w),
        }
    }
    out
}

/// Fills one question's templates: remembers the subject, the nouns and places used (they are
/// not repeated) and the bracketed parts.
struct Filler<'a> {
    vocab: &'a Vocab,
    subject: usize,
    used: Vec<&'static str>,
    captures: Vec<String>,
}

impl Filler<'_> {
    /// A word not used yet in this question (after a few tries, any word).
    fn fresh(&mut self, rng: &mut StdRng, list: &List) -> &'static str {
        let mut w = list.pick(rng);
        for _ in 0..20 {
            if !self.used.contains(&w) {
                break;
            }
            w = list.pick(rng);
        }
        self.used.push(w);
        w
    }

    fn fill(&mut self, rng: &mut StdRng, template: &str, out: &mut String) {
        let vocab = self.vocab;
        let mut open = None;
        let mut rest = template;
        while let Some(i) = rest.find(['{', '[', ']']) {
            out.push_str(&rest[..i]);
            match rest.as_bytes()[i] {
                b'[' => {
                    open = Some(out.len());
                    rest = &rest[i + 1..];
                }
                b']' => {
                    let start = open.take().expect("a bracket opened in the template");
                    self.captures.push(capitalised(&out[start..]));
                    rest = &rest[i + 1..];
                }
                _ => {
                    let end = i + rest[i..].find('}').expect("a closed placeholder");
                    match &rest[i + 1..end] {
                        "noun" => {
                            let w = self.fresh(rng, &vocab.nouns);
                            out.push_str(w);
                        }
                        "thing" => {
                            let w = self.fresh(rng, &vocab.subjects[self.subject].1);
                            out.push_str(w);
                        }
                        "kind" => out.push_str(vocab.subjects[self.subject].0),
                        "adj" => out.push_str(vocab.adjectives.pick(rng)),
                        "verb" => out.push_str(vocab.verbs.pick(rng)),
                        "place" => {
                            let w = self.fresh(rng, &vocab.places);
                            out.push_str(w);
                        }
                        "org" => out.push_str(vocab.organizations.pick(rng)),
                        "acro" => out.push_str(vocab.acronyms.pick(rng)),
                        "tail" => {
                            if rng.gen_bool(0.5) {
                                let tail = TAILS[rng.gen_range(0..TAILS.len())];
                                self.fill(rng, tail, out);
                            }
                        }
                        "end" => {
                            let tail = TAILS[rng.gen_range(0..TAILS.len())];
                            self.fill(rng, tail, out);
                        }
                        other => unreachable!("unknown placeholder {{{other}}}"),
                    }
                    rest = &rest[end + 1..];
                }
            }
        }
        out.push_str(rest);
    }
}

impl Vocab {
    fn new() -> Vocab {
        let subjects: Vec<(&'static str, List)> = words::NOUNS
            .iter()
            .map(|c: &NounCategory| (c.name, List::new(c.words.to_vec())))
            .collect();
        let longest = words::NOUNS
            .iter()
            .map(|c| c.words.len())
            .max()
            .unwrap_or(0);
        let nouns = (0..longest)
            .flat_map(|r| {
                words::NOUNS
                    .iter()
                    .filter_map(move |c| c.words.get(r).copied())
            })
            .collect();
        Vocab {
            nouns: List::new(nouns),
            subjects,
            adjectives: List::new(words::ADJECTIVES.to_vec()),
            verbs: List::new(words::VERBS.to_vec()),
            places: List::new(words::PLACES.to_vec()),
            organizations: List::new(words::ORGANIZATIONS.to_vec()),
            acronyms: List::new(words::ACRONYMS.to_vec()),
        }
    }

    /// One question's title, description (about 60 % have one) and `n_choices` labels.
    fn question(&self, rng: &mut StdRng, n_choices: usize) -> Draft {
        assert!((2..=6).contains(&n_choices));
        loop {
            let subject = rng.gen_range(0..self.subjects.len());
            let mut filler = Filler {
                vocab: self,
                subject,
                used: Vec::new(),
                captures: Vec::new(),
            };
            let (template, answers) = TITLES[rng.gen_range(0..TITLES.len())];
            let mut title = String::new();
            filler.fill(rng, template, &mut title);
            let title = capitalised(&articles(&title));
            // Every template gives 10 to 200 characters; this only guards a future one.
            let n = title.chars().count();
            if !(10..=200).contains(&n) {
                continue;
            }
            let labels = self.labels(rng, &mut filler, answers, n_choices);
            let description = rng.gen_bool(0.6).then(|| {
                let sentences = rng.gen_range(1..=3);
                let mut picked: Vec<usize> = Vec::with_capacity(sentences);
                while picked.len() < sentences {
                    let i = rng.gen_range(0..SENTENCES.len());
                    if !picked.contains(&i) {
                        picked.push(i);
                    }
                }
                let mut text = String::new();
                for i in picked {
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    let mut sentence = String::new();
                    filler.fill(rng, SENTENCES[i], &mut sentence);
                    text.push_str(&capitalised(&articles(&sentence)));
                }
                text
            });
            return Draft {
                title,
                description,
                labels,
            };
        }
    }

    fn labels(
        &self,
        rng: &mut StdRng,
        filler: &mut Filler<'_>,
        answers: Answers,
        n: usize,
    ) -> Vec<String> {
        let fixed = |table: [&[&str]; 5]| table[n - 2].iter().map(|s| s.to_string()).collect();
        let words = |words: Vec<&str>| words.into_iter().map(capitalised).collect();
        match answers {
            Answers::YesNo => fixed(YES_NO),
            Answers::Frequency => fixed(FREQUENCY),
            Answers::Feelings => fixed(FEELINGS),
            Answers::Importance => fixed(IMPORTANCE),
            Answers::GoodBad => fixed(GOOD_BAD),
            Answers::Pair => {
                let mut labels: Vec<String> = Vec::with_capacity(n);
                let extras = PAIR_EXTRAS.iter().map(|s| s.to_string());
                for label in filler.captures.iter().take(2).cloned().chain(extras) {
                    if labels.len() == n {
                        break;
                    }
                    if !labels.iter().any(|l| l.eq_ignore_ascii_case(&label)) {
                        labels.push(label);
                    }
                }
                labels
            }
            Answers::Things => words(self.subjects[filler.subject].1.distinct(rng, n)),
            Answers::Adjectives => words(self.adjectives.distinct(rng, n)),
            Answers::Places => words(self.places.distinct(rng, n)),
        }
    }
}

fn ts(t: NaiveDateTime) -> String {
    t.format("'%Y-%m-%d %H:%M:%S%.6f'").to_string()
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Ballots generated, sorted and written together.
const BALLOT_BATCH: usize = 200_000;

/// Generates the data set; returns (first question id, last question id).
pub fn generate(db: &Db, opts: GenerateOptions) -> AppResult<(i64, i64)> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let vocab = Vocab::new();
    let now = models::now();
    db.write_blocking(|c| {
        // Tags gen-00 .. gen-59, created if missing.
        let mut tag_ids = Vec::with_capacity(TAGS);
        for i in 0..TAGS {
            let name = crate::domain::TagName::parse(&format!("gen-{i:02}")).expect("valid tag");
            tag_ids.push(crate::models::tag::find_or_create(c, &name)?);
        }
        let first_q = bulk::max_id(c, "questions")? + 1;
        let first_choice = bulk::max_id(c, "choices")? + 1;
        let nq = opts.questions as i64;
        // Choice ids are allocated densely: question k has choices [starts[k], starts[k] + counts[k]).
        let mut choice_counts = Vec::with_capacity(opts.questions as usize);
        let mut created = Vec::with_capacity(opts.questions as usize);
        let pb = bar(opts.questions, "questions");
        let mut next_choice = first_choice;
        let mut starts = Vec::with_capacity(opts.questions as usize);
        for chunk_start in (0..nq).step_by(500) {
            let chunk_end = (chunk_start + 500).min(nq);
            let mut qs = String::from(
                "INSERT INTO questions (id, author_id, title, slug, description, kind, min_choices, max_choices, \
                 results_visibility, protection, vote_count, hot_rank, created_at, updated_at, closes_at) VALUES ",
            );
            let mut cs = String::from("INSERT INTO choices (id, question_id, position, label) VALUES ");
            let mut ts_sql = String::from("INSERT INTO question_tags (question_id, tag_id) VALUES ");
            // Each question's search row, written with it (as the write path does).
            let mut docs = Vec::with_capacity((chunk_end - chunk_start) as usize);
            for k in chunk_start..chunk_end {
                let id = first_q + k;
                let n_choices = rng.gen_range(2..=6usize);
                let draft = vocab.question(&mut rng, n_choices);
                let slug = crate::domain::slugify(&draft.title);
                let multiple = rng.gen_ratio(1, 5);
                let at = now - Duration::seconds(rng.gen_range(0..90 * 86_400));
                if k > chunk_start {
                    qs.push(',');
                    cs.push(',');
                    ts_sql.push(',');
                }
                qs.push_str(&format!(
                    "({id}, NULL, {}, {}, {}, '{}', 1, {}, 'always', 'browser', 0, 0, {}, {}, NULL)",
                    bulk::quote(&draft.title),
                    bulk::quote(&slug),
                    draft.description.as_deref().map_or_else(|| "NULL".to_string(), bulk::quote),
                    if multiple { "multiple" } else { "single" },
                    if multiple { n_choices } else { 1 },
                    ts(at),
                    ts(at)
                ));
                starts.push(next_choice);
                for (p, label) in draft.labels.iter().enumerate() {
                    if p > 0 {
                        cs.push(',');
                    }
                    cs.push_str(&format!("({next_choice}, {id}, {p}, {})", bulk::quote(label)));
                    next_choice += 1;
                }
                let t1 = rng.gen_range(0..TAGS);
                let t2 = (t1 + 1 + rng.gen_range(0..TAGS - 1)) % TAGS;
                ts_sql.push_str(&format!("({id}, {}), ({id}, {})", tag_ids[t1], tag_ids[t2]));
                let (tag1, tag2) = (format!("gen-{t1:02}"), format!("gen-{t2:02}"));
                docs.push((
                    id,
                    SearchDocument::new(
                        &draft.title,
                        draft.description.as_deref(),
                        draft.labels.iter().map(String::as_str),
                        [tag1.as_str(), tag2.as_str()],
                    ),
                ));
                choice_counts.push((n_choices, multiple));
                created.push(at);
            }
            write_transaction(c, |c| {
                c.batch_execute(&qs)?;
                c.batch_execute(&cs)?;
                c.batch_execute(&ts_sql)?;
                search::insert(c, &docs)
            })?;
            pb.inc((chunk_end - chunk_start) as u64);
        }
        pb.finish();

        // Votes: popularity follows a Zipf-like law over questions (a few viral, a long tail).
        let pb = bar(opts.votes, "votes");
        let mut next_ballot = bulk::max_id(c, "ballots")? + 1;
        // Ballots are written in batches sorted by question, with ids given in that order: the
        // ballots and votes indexes (by question, voter, choice) then grow in sweeps instead of
        // at random pages, which keeps a 10M-vote load from becoming I/O-bound on a small
        // buffer pool.
        let mut batch = Vec::with_capacity(BALLOT_BATCH);
        let mut flush = |c: &mut crate::db::AnyConnection,
                         batch: &mut Vec<BulkBallot>|
         -> AppResult<()> {
            batch.sort_by(|a, b| (a.question_id, &a.voter).cmp(&(b.question_id, &b.voter)));
            for b in batch.iter_mut() {
                b.id = next_ballot;
                next_ballot += 1;
            }
            for chunk in batch.chunks(5_000) {
                write_transaction(c, |c| bulk::insert_ballots(c, chunk))?;
                pb.inc(chunk.len() as u64);
            }
            batch.clear();
            Ok(())
        };
        for v in 0..opts.votes {
            if nq == 0 {
                break;
            }
            let u: f64 = rng.r#gen::<f64>();
            let k = ((nq as f64).powf(u) as i64 - 1).clamp(0, nq - 1) as usize;
            let (n_choices, multiple) = choice_counts[k];
            let first = starts[k];
            let mut picks = vec![first + rng.gen_range(0..n_choices) as i64];
            if multiple && rng.gen_bool(0.4) {
                let extra = first + rng.gen_range(0..n_choices) as i64;
                if extra != picks[0] {
                    picks.push(extra);
                }
            }
            let span = (now - created[k]).num_seconds().max(1);
            batch.push(BulkBallot {
                id: 0,
                question_id: first_q + k as i64,
                voter: format!("g:{}:{v}", opts.seed),
                user_id: None,
                trust: generated_trust(v),
                created_at: created[k] + Duration::seconds(rng.gen_range(0..span)),
                choices: picks,
            });
            if batch.len() == BALLOT_BATCH {
                flush(c, &mut batch)?;
            }
        }
        if !batch.is_empty() {
            flush(c, &mut batch)?;
        }
        pb.finish();
        eprintln!("rebuilding counters and hot ranks...");
        bulk::rebuild_counters(c)?;
        question::refresh_hot_ranks(c, now)?;
        eprintln!("filling the analytics rollups...");
        // Three views per vote (plus one per active hour), at the hours the votes were cast.
        models::rollup::rebuild_from_ballots(c, 3)?;
        Ok((first_q, first_q + nq - 1))
    })
}

/// The trust level of generated ballot `v`: 70 % a voter cookie, 10 % an account, 20 % a
/// verified account (accounts that are gone: the ballot keeps its level without one), so results
/// "verified accounts only" have data to show.
fn generated_trust(v: u64) -> &'static str {
    match v % 10 {
        0..=6 => "cookie",
        7 => "account",
        _ => "verified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChoiceLabel, Description, QuestionTitle};

    fn drafts(seed: u64, n: usize) -> Vec<Draft> {
        let vocab = Vocab::new();
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|i| vocab.question(&mut rng, 2 + i % 5))
            .collect()
    }

    #[test]
    fn questions_are_valid_for_the_app() {
        for (i, d) in drafts(1, 20_000).iter().enumerate() {
            let title = QuestionTitle::parse(&d.title).expect("a valid title");
            assert_eq!(title.as_str(), d.title, "titles need no cleaning");
            assert!(!crate::domain::slugify(&d.title).is_empty());
            if let Some(text) = &d.description {
                let parsed = Description::parse(text).unwrap().expect("not empty");
                assert_eq!(parsed.as_str(), text);
            }
            assert_eq!(d.labels.len(), 2 + i % 5, "{d:?}");
            for (k, label) in d.labels.iter().enumerate() {
                assert_eq!(ChoiceLabel::parse(label).unwrap().as_str(), label);
                assert!(
                    !d.labels[..k].iter().any(|l| l.eq_ignore_ascii_case(label)),
                    "a label twice: {d:?}"
                );
            }
        }
    }

    #[test]
    fn text_varies_like_real_text() {
        let all = drafts(2, 10_000);
        let titles: std::collections::HashSet<&str> =
            all.iter().map(|d| d.title.as_str()).collect();
        assert!(titles.len() > 9_700, "{} distinct titles", titles.len());
        let described = all.iter().filter(|d| d.description.is_some()).count();
        assert!(
            (5_500..6_500).contains(&described),
            "{described} descriptions"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_questions() {
        assert_eq!(drafts(9, 500), drafts(9, 500));
        assert_ne!(drafts(9, 500), drafts(10, 500));
    }

    #[test]
    fn ranks_follow_a_zipf_law() {
        let zipf = Zipf::new(1_000);
        let mut rng = StdRng::seed_from_u64(3);
        let mut counts = vec![0u32; 1_000];
        for _ in 0..200_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        // Rank r has about 1/r of the first rank's draws.
        let first = f64::from(counts[0]);
        for r in [2usize, 10] {
            let ratio = first / f64::from(counts[r - 1]);
            assert!((ratio / r as f64 - 1.0).abs() < 0.15, "rank {r}: {ratio}");
        }
        assert!(counts[999] > 0 && counts[999] < counts[99]);
    }

    #[test]
    fn articles_agree() {
        assert_eq!(articles("during a iced talk"), "during an iced talk");
        assert_eq!(
            articles("a useful or a urban one"),
            "a useful or an urban one"
        );
        assert_eq!(articles("a good day, a"), "a good day, a");
    }

    #[test]
    fn sql_literals_double_quotes() {
        assert_eq!(bulk::quote("it's"), "'it''s'");
    }
}
