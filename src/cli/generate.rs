//! `beebeta generate`: a reproducible synthetic data set for benchmarks, loaded in bulk.

use chrono::{Duration, NaiveDateTime};
use diesel::connection::SimpleConnection;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::Db;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::models::bulk::{self, BulkBallot};
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

const WORDS: &[&str] = &[
    "coffee", "rust", "cities", "trains", "music", "cats", "weather", "books", "football", "space",
    "pizza", "remote", "work", "sleep", "summer", "voting", "schools", "phones", "movies", "games",
    "bikes", "taxes", "oceans", "robots", "gardens", "art", "history", "science", "holidays",
    "tea",
];
const TAGS: usize = 60;

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
            for k in chunk_start..chunk_end {
                let id = first_q + k;
                let a = WORDS[rng.gen_range(0..WORDS.len())];
                let b = WORDS[rng.gen_range(0..WORDS.len())];
                let title = format!("Question {id}: {a} or {b}, what do you think?");
                let slug = crate::domain::slugify(&title);
                let n_choices = rng.gen_range(2..=6usize);
                let multiple = rng.gen_ratio(1, 5);
                let at = now - Duration::seconds(rng.gen_range(0..90 * 86_400));
                if k > chunk_start {
                    qs.push(',');
                    cs.push(',');
                    ts_sql.push(',');
                }
                qs.push_str(&format!(
                    "({id}, NULL, '{title}', '{slug}', NULL, '{}', 1, {}, 'always', 'browser', 0, 0, {}, {}, NULL)",
                    if multiple { "multiple" } else { "single" },
                    if multiple { n_choices } else { 1 },
                    ts(at),
                    ts(at)
                ));
                starts.push(next_choice);
                for p in 0..n_choices {
                    if p > 0 {
                        cs.push(',');
                    }
                    cs.push_str(&format!("({}, {id}, {p}, 'Option {}')", next_choice, p + 1));
                    next_choice += 1;
                }
                let t1 = rng.gen_range(0..TAGS);
                let t2 = (t1 + 1 + rng.gen_range(0..TAGS - 1)) % TAGS;
                ts_sql.push_str(&format!("({id}, {}), ({id}, {})", tag_ids[t1], tag_ids[t2]));
                choice_counts.push((n_choices, multiple));
                created.push(at);
            }
            write_transaction(c, |c| {
                c.batch_execute(&qs)?;
                c.batch_execute(&cs)?;
                c.batch_execute(&ts_sql)
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
                trust: "cookie",
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
