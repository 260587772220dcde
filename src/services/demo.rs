//! The demo content: about forty realistic questions across a dozen tags, with votes spread over
//! the past weeks so that hot, top and tags look alive, and a few flags for the admins' queue.
//! The embedded default seeds it into an empty database at start-up (`app::build`);
//! `beebeta seed-demo` does it on demand.

use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::write_transaction;
use crate::db::{AnyConnection, Db};
use crate::domain::{DraftInput, FlagReport, QuestionDraft};
use crate::error::{AppError, AppResult};
use crate::models::bulk::{self, BulkBallot};
use crate::models::flag::{self, NewFlag};
use crate::models::{self, choice, question, segment, user};

/// (title, description, tags, choices, kind, visibility, protection, age in days, closes after days)
type Demo = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
);

const DEMO: &[Demo] = &[
    (
        "Tabs or spaces for indentation?",
        "The eternal question. Pick the one you actually use, not the one you defend online.",
        &["programming", "tools"],
        &["Tabs", "Spaces", "Whatever the formatter says"],
        "single",
        "always",
        "browser",
        1,
        None,
    ),
    (
        "Which programming language would you pick for a new web backend today?",
        "",
        &["programming", "web"],
        &[
            "Rust",
            "Go",
            "TypeScript",
            "Python",
            "Java or Kotlin",
            "Elixir",
        ],
        "single",
        "always",
        "browser",
        2,
        None,
    ),
    (
        "How do you take your coffee?",
        "",
        &["food", "lifestyle"],
        &[
            "Black",
            "With milk",
            "Espresso only",
            "I drink tea instead",
            "No caffeine for me",
        ],
        "single",
        "always",
        "browser",
        3,
        None,
    ),
    (
        "What is the best season of the year?",
        "",
        &["lifestyle", "weather"],
        &["Spring", "Summer", "Autumn", "Winter"],
        "single",
        "after_vote",
        "browser",
        20,
        None,
    ),
    (
        "Which of these do you use at least once a week?",
        "Tick everything that applies.",
        &["technology", "lifestyle"],
        &[
            "A smartwatch",
            "A tablet",
            "A desktop computer",
            "A game console",
            "An e-reader",
        ],
        "multiple",
        "always",
        "browser",
        5,
        None,
    ),
    (
        "Should cities ban cars from their historic centres?",
        "Many European cities already restrict traffic in their old towns. Would you support a full ban where you live?",
        &["cities", "politics", "environment"],
        &[
            "Yes, fully",
            "Only at weekends",
            "Only for non-residents",
            "No",
        ],
        "single",
        "after_vote",
        "network",
        4,
        None,
    ),
    (
        "How many hours do you sleep on a typical night?",
        "",
        &["health", "lifestyle"],
        &["Less than 5", "5 to 6", "6 to 7", "7 to 8", "More than 8"],
        "single",
        "always",
        "browser",
        9,
        None,
    ),
    (
        "Is a hot dog a sandwich?",
        "Settle it once and for all.",
        &["food", "fun"],
        &["Yes", "No", "It is its own thing"],
        "single",
        "always",
        "browser",
        30,
        None,
    ),
    (
        "What is your favourite way to travel long distances?",
        "",
        &["travel"],
        &["Train", "Plane", "Car", "Bus", "Ship"],
        "single",
        "always",
        "browser",
        12,
        None,
    ),
    (
        "Which streaming services do you pay for?",
        "",
        &["technology", "entertainment"],
        &["Netflix", "Disney+", "Prime Video", "Apple TV+", "None"],
        "multiple",
        "always",
        "browser",
        6,
        None,
    ),
    (
        "Do you prefer reading e-books or paper books?",
        "",
        &["books", "technology"],
        &["Paper", "E-books", "Audiobooks", "All of them"],
        "single",
        "always",
        "browser",
        15,
        None,
    ),
    (
        "Should the clocks stop changing for daylight saving time?",
        "",
        &["politics", "lifestyle"],
        &[
            "Yes, keep summer time",
            "Yes, keep winter time",
            "No, keep changing",
        ],
        "single",
        "after_close",
        "browser",
        25,
        Some(20),
    ),
    (
        "How do you commute to work or school?",
        "",
        &["cities", "lifestyle"],
        &[
            "Walk",
            "Bicycle",
            "Public transport",
            "Car",
            "I work from home",
        ],
        "single",
        "always",
        "browser",
        8,
        None,
    ),
    (
        "What is the best pizza topping?",
        "",
        &["food", "fun"],
        &[
            "Margherita, nothing else",
            "Pepperoni",
            "Mushrooms",
            "Pineapple",
            "Anchovies",
        ],
        "single",
        "always",
        "browser",
        1,
        None,
    ),
    (
        "Which editor do you write code in?",
        "",
        &["programming", "tools"],
        &[
            "VS Code",
            "Vim or Neovim",
            "Emacs",
            "A JetBrains IDE",
            "Zed",
            "Helix",
        ],
        "single",
        "always",
        "browser",
        10,
        None,
    ),
    (
        "Would you take a one-way trip to Mars?",
        "Assume the trip is survivable and you can talk to Earth with a 20-minute delay.",
        &["science", "space", "fun"],
        &["Yes, tomorrow", "Only with my family", "No way"],
        "single",
        "after_vote",
        "browser",
        18,
        None,
    ),
    (
        "Should homework be abolished in primary schools?",
        "",
        &["education", "politics"],
        &["Yes", "Only at weekends", "No", "Not sure"],
        "single",
        "after_vote",
        "network",
        7,
        None,
    ),
    (
        "Which of these sports do you follow?",
        "",
        &["sports"],
        &[
            "Football",
            "Basketball",
            "Tennis",
            "Cycling",
            "Formula 1",
            "None",
        ],
        "multiple",
        "always",
        "browser",
        11,
        None,
    ),
    (
        "Cats or dogs?",
        "",
        &["pets", "fun"],
        &["Cats", "Dogs", "Both", "Neither"],
        "single",
        "always",
        "browser",
        35,
        None,
    ),
    (
        "Will most new cars sold in 2030 be electric?",
        "",
        &["technology", "environment", "cars"],
        &["Yes", "No", "Only in some countries"],
        "single",
        "always",
        "browser",
        14,
        None,
    ),
    (
        "What time do you usually wake up on weekdays?",
        "",
        &["lifestyle", "health"],
        &["Before 6", "6 to 7", "7 to 8", "After 8"],
        "single",
        "always",
        "browser",
        3,
        None,
    ),
    (
        "Which database would you choose for a new project?",
        "",
        &["programming", "databases"],
        &[
            "PostgreSQL",
            "MySQL or MariaDB",
            "SQLite",
            "MongoDB",
            "Something else",
        ],
        "single",
        "always",
        "browser",
        2,
        None,
    ),
    (
        "Do you recycle at home?",
        "",
        &["environment", "lifestyle"],
        &["Everything I can", "Some things", "Rarely", "Never"],
        "single",
        "always",
        "browser",
        21,
        None,
    ),
    (
        "What is the ideal length for a meeting?",
        "",
        &["work"],
        &[
            "15 minutes",
            "30 minutes",
            "45 minutes",
            "An hour",
            "It should have been an email",
        ],
        "single",
        "always",
        "browser",
        4,
        None,
    ),
    (
        "Should voting be compulsory?",
        "Australia and Belgium make voting compulsory. Should your country?",
        &["politics"],
        &["Yes", "No", "Only for national elections"],
        "single",
        "after_close",
        "network",
        40,
        Some(28),
    ),
    (
        "Which board games do you own?",
        "",
        &["games", "fun"],
        &[
            "Chess",
            "Catan",
            "Monopoly",
            "Ticket to Ride",
            "Carcassonne",
            "None",
        ],
        "multiple",
        "always",
        "browser",
        16,
        None,
    ),
    (
        "How often do you exercise?",
        "",
        &["health", "sports"],
        &["Every day", "A few times a week", "Once a week", "Rarely"],
        "single",
        "always",
        "browser",
        6,
        None,
    ),
    (
        "What is the best way to learn a new language?",
        "",
        &["education", "travel"],
        &[
            "Living abroad",
            "An app",
            "Classes",
            "Films and series",
            "A tutor",
        ],
        "single",
        "always",
        "browser",
        13,
        None,
    ),
    (
        "Which space mission excites you most?",
        "",
        &["space", "science"],
        &[
            "Returning to the Moon",
            "Humans on Mars",
            "Europa's ocean",
            "Next-generation space telescopes",
        ],
        "single",
        "always",
        "browser",
        19,
        None,
    ),
    (
        "Four-day work week: would you take it for the same pay?",
        "",
        &["work", "politics"],
        &[
            "Absolutely",
            "Only with fewer hours",
            "No, I like five days",
        ],
        "single",
        "after_vote",
        "browser",
        2,
        None,
    ),
    (
        "Do you trust self-driving cars?",
        "",
        &["technology", "cars"],
        &["Yes", "Not yet", "Never"],
        "single",
        "always",
        "browser",
        22,
        None,
    ),
    (
        "Which meal do you skip most often?",
        "",
        &["food", "health"],
        &["Breakfast", "Lunch", "Dinner", "I never skip meals"],
        "single",
        "always",
        "browser",
        9,
        None,
    ),
    (
        "What kind of music do you listen to most?",
        "",
        &["music", "entertainment"],
        &["Pop", "Rock", "Hip hop", "Electronic", "Classical", "Jazz"],
        "single",
        "always",
        "browser",
        27,
        None,
    ),
    (
        "Where would you go on a dream holiday?",
        "",
        &["travel"],
        &["Japan", "New Zealand", "Iceland", "Peru", "Italy", "Kenya"],
        "single",
        "always",
        "browser",
        5,
        None,
    ),
    (
        "Should social media be banned for under-16s?",
        "",
        &["politics", "technology", "education"],
        &["Yes", "Only some platforms", "No"],
        "single",
        "after_close",
        "browser",
        1,
        None,
    ),
    (
        "Which browser are you using right now?",
        "",
        &["technology", "web"],
        &["Firefox", "Chrome", "Safari", "Edge", "Something else"],
        "single",
        "always",
        "browser",
        3,
        None,
    ),
    (
        "How many books did you read last year?",
        "",
        &["books"],
        &["None", "1 to 5", "6 to 12", "More than 12"],
        "single",
        "always",
        "browser",
        33,
        None,
    ),
    (
        "What is the most important quality in a manager?",
        "",
        &["work"],
        &[
            "Honesty",
            "Clear goals",
            "Trust",
            "Technical skill",
            "Empathy",
        ],
        "single",
        "always",
        "browser",
        24,
        None,
    ),
    (
        "Would you rather live in the city or the countryside?",
        "",
        &["cities", "lifestyle"],
        &["City", "Countryside", "Suburbs", "A small town"],
        "single",
        "always",
        "browser",
        17,
        None,
    ),
    (
        "Which films did you see in a cinema this year?",
        "Pick any kind that applies.",
        &["entertainment", "films"],
        &[
            "A blockbuster",
            "An animated film",
            "A documentary",
            "A foreign-language film",
            "None",
        ],
        "multiple",
        "always",
        "browser",
        8,
        None,
    ),
    (
        "Is remote work better than the office?",
        "",
        &["work", "lifestyle"],
        &["Fully remote", "Hybrid", "Office", "Depends on the team"],
        "single",
        "always",
        "browser",
        0,
        None,
    ),
    (
        "Rank these pizza toppings, favourite first",
        "A ranked question: order as many as you like. If your favourite is eliminated, your vote moves to your next choice.",
        &["food"],
        &[
            "Mushrooms",
            "Pepperoni",
            "Olives",
            "Pineapple",
            "Extra cheese",
        ],
        "ranked",
        "always",
        "browser",
        2,
        None,
    ),
    (
        "Which city should host the next open-source summit?",
        "Ranked choice: order the cities by preference. Results show once you have voted.",
        &["technology", "cities"],
        &["Lisbon", "Berlin", "Montréal", "Nairobi"],
        "ranked",
        "after_vote",
        "browser",
        4,
        None,
    ),
];

const AUTHORS: &[&str] = &["alice", "bruno", "chen", "dara", "emeka", "farah"];

/// Whether the database has no questions yet.
pub fn is_empty(db: &Db) -> AppResult<bool> {
    db.run_blocking(|c| Ok(question::count_all(c)? == 0))
}

/// Synthetic page views per demo vote in the rollups.
const DEMO_VIEWS_PER_VOTE: i64 = 3;

/// Flags on a few demo questions, so that a fresh site's `/admin/flags` has a queue: (index in
/// `DEMO`, reason, details, how many anonymous visitors). None reaches the hiding threshold,
/// which counts verified accounts only.
const DEMO_FLAGS: &[(usize, &str, Option<&str>, usize)] = &[
    (
        2,
        "duplicate",
        Some("The same question was asked last week."),
        2,
    ),
    (5, "misleading", None, 3),
    (
        5,
        "other",
        Some("The choices leave out the obvious answer."),
        1,
    ),
    (9, "spam", Some("Reads like an advert for one product."), 1),
];

fn seed_flags(c: &mut AnyConnection, qids: &[i64], now: NaiveDateTime) -> AppResult<()> {
    for (i, &(n, reason, details, flaggers)) in DEMO_FLAGS.iter().enumerate() {
        let Some(&qid) = qids.get(n) else { continue };
        let report = FlagReport::parse(Some(reason), details)?;
        for k in 0..flaggers {
            let voter = format!("c:seed-flag-{qid}-{i}-{k}");
            flag::insert(
                c,
                &NewFlag {
                    question_id: qid,
                    voter: &voter,
                    user_id: None,
                    reason: report.reason().as_str(),
                    // The first flagger of a group says why; the others only choose a reason.
                    details: report.details().filter(|_| k == 0),
                    created_at: now - Duration::hours((3 * i + k + 1) as i64),
                },
            )?;
        }
    }
    Ok(())
}

/// How many demo members with verified emails answer the profile questions and vote.
const PANEL: usize = 60;
/// The demo questions (indexes in `DEMO`) the panel votes on, so that their breakdowns show.
const PANEL_VOTES_ON: &[usize] = &[0, 1];
/// Age bands and countries of the panel, cycled with different strides so that some groups
/// reach k = 5 and some do not (`""`: prefer not to say).
const PANEL_AGES: &[&str] = &[
    "25-34", "18-24", "35-44", "25-34", "45-54", "18-24", "35-44", "55-64", "25-34", "65+",
];
const PANEL_COUNTRIES: &[&str] = &[
    "FR", "US", "DE", "GB", "US", "FR", "", "BR", "US", "JP", "DE",
];
/// A few members from countries too rare to show: (member index, country).
const PANEL_RARE: &[(usize, &str)] = &[(7, "NZ"), (18, "CA"), (33, "CA"), (50, "IE")];

/// Demo members `panel01`… with verified emails and profile answers, and their verified-account
/// ballots on a couple of demo questions, so that a fresh site shows breakdowns.
fn seed_panel(
    c: &mut AnyConnection,
    qids: &[i64],
    mut next_ballot: i64,
    rng: &mut StdRng,
    now: NaiveDateTime,
) -> AppResult<()> {
    let (Some(age), Some(country)) = (
        segment::find_by_key(c, "age")?,
        segment::find_by_key(c, "country")?,
    ) else {
        return Ok(());
    };
    let mut ballots = Vec::new();
    for i in 0..PANEL {
        let name = format!("panel{:02}", i + 1);
        let joined = now - Duration::days(30) + Duration::hours(i as i64);
        let id = match user::find_by_username(c, &name)? {
            Some(u) => u.id,
            None => {
                let id = user::create(
                    c,
                    &user::NewUser {
                        username: &name,
                        email: &format!("{name}@example.com"),
                        password_hash: None,
                        role: "user",
                        created_at: joined,
                    },
                )?;
                user::mark_verified(c, id, joined)?;
                id
            }
        };
        let answers = [
            (age.id, Some(PANEL_AGES[i % PANEL_AGES.len()].to_string())),
            (
                country.id,
                Some(
                    PANEL_RARE
                        .iter()
                        .find(|(k, _)| *k == i)
                        .map_or(PANEL_COUNTRIES[i % PANEL_COUNTRIES.len()], |(_, c)| *c)
                        .to_string(),
                )
                .filter(|v| !v.is_empty()),
            ),
        ];
        write_transaction(c, |c| segment::set_answers(c, id, &answers, joined))?;
        for &n in PANEL_VOTES_ON {
            let Some(&qid) = qids.get(n) else { continue };
            let choice_ids: Vec<i64> = choice::for_question(c, qid)?.iter().map(|r| r.id).collect();
            // Younger members lean to the first choice, older ones spread out.
            let lean = (i % PANEL_AGES.len()) % choice_ids.len().max(1);
            let pick = if rng.gen_bool(0.6) {
                lean
            } else {
                rng.gen_range(0..choice_ids.len())
            };
            ballots.push(BulkBallot {
                id: next_ballot,
                question_id: qid,
                voter: format!("u:{id}"),
                user_id: Some(id),
                trust: "verified",
                created_at: now - Duration::hours(rng.gen_range(1..48)),
                choices: vec![choice_ids[pick]],
            });
            next_ballot += 1;
        }
    }
    write_transaction(c, |c| bulk::insert_ballots(c, &ballots))?;
    Ok(())
}

/// Inserts the demo content; returns the number of questions created.
pub fn seed_demo(db: &Db) -> AppResult<usize> {
    db.write_blocking(|c| {
        let now = models::now();
        let mut rng = StdRng::seed_from_u64(2026);
        let mut author_ids = Vec::new();
        for (i, name) in AUTHORS.iter().enumerate() {
            let id = match user::find_by_username(c, name)? {
                Some(u) => u.id,
                None => user::create(
                    c,
                    &user::NewUser {
                        username: name,
                        email: &format!("{name}@example.com"),
                        password_hash: None,
                        role: "user",
                        created_at: now - Duration::days(60 - i as i64),
                    },
                )?,
            };
            author_ids.push(id);
        }
        let mut next_ballot = bulk::max_id(c, "ballots")? + 1;
        let mut qids = Vec::with_capacity(DEMO.len());
        for (n, d) in DEMO.iter().enumerate() {
            let (title, description, tags, choices, kind, visibility, protection, age, closes) = *d;
            let created = now - Duration::days(age) - Duration::minutes(rng.gen_range(5..600));
            let input = DraftInput {
                author_id: Some(author_ids[n % author_ids.len()]),
                title,
                description,
                kind,
                min_choices: None,
                max_choices: (kind == "multiple").then_some(choices.len() as u32),
                results_visibility: visibility,
                protection,
                closes_at: closes
                    .map(|days| created + Duration::days(days))
                    .or_else(|| (visibility == "after_close").then(|| now + Duration::days(7))),
                choices: choices.to_vec(),
                tags: tags.to_vec(),
                breakdowns: None,
                choice_images: Vec::new(),
                image: None,
            };
            let draft = QuestionDraft::parse(input, created).map_err(AppError::from)?;
            let qid = question::create(c, &draft, created)?;
            qids.push(qid);
            let choice_ids: Vec<i64> = choice::for_question(c, qid)?.iter().map(|r| r.id).collect();
            // Popularity falls with age but varies a lot; weights favour the first choices a bit.
            let voters = rng.gen_range(20..400) / (1 + age as usize / 10);
            let weights: Vec<u32> = (0..choice_ids.len())
                .map(|i| rng.gen_range(1..10) + (choice_ids.len() - i) as u32)
                .collect();
            let total_w: u32 = weights.iter().sum();
            let end = draft.closes_at.map_or(now, |t| t.min(now));
            let span = (end - created).num_seconds().max(60);
            let mut ballots = Vec::with_capacity(voters);
            let mut rankings = Vec::new();
            for v in 0..voters {
                let pick = |rng: &mut StdRng| {
                    let mut x = rng.gen_range(0..total_w);
                    for (i, w) in weights.iter().enumerate() {
                        if x < *w {
                            return choice_ids[i];
                        }
                        x -= w;
                    }
                    choice_ids[0]
                };
                let mut picks = vec![pick(&mut rng)];
                if kind == "multiple" {
                    for _ in 0..rng.gen_range(0..3) {
                        picks.push(pick(&mut rng));
                    }
                    picks.sort_unstable();
                    picks.dedup();
                }
                if kind == "ranked" {
                    // A ranking of 1 to all choices, drawn by the same weights without repeats;
                    // the ballot's vote row is its first choice.
                    let ranks = rng.gen_range(1..=choice_ids.len());
                    for _ in 0..choice_ids.len() * 4 {
                        let p = pick(&mut rng);
                        if picks.len() < ranks && !picks.contains(&p) {
                            picks.push(p);
                        }
                    }
                    rankings.push((next_ballot, qid, picks.clone()));
                    picks.truncate(1);
                }
                // Votes cluster towards the question's early life.
                let frac: f64 = rng.r#gen::<f64>().powf(2.0);
                ballots.push(BulkBallot {
                    id: next_ballot,
                    question_id: qid,
                    voter: format!("seed:{qid}:{v}"),
                    user_id: None,
                    trust: "cookie",
                    created_at: created + Duration::seconds((span as f64 * frac) as i64),
                    choices: picks,
                });
                next_ballot += 1;
            }
            write_transaction(c, |c| {
                bulk::insert_ballots(c, &ballots)?;
                models::ranking::insert_bulk(c, &rankings)
            })?;
        }
        seed_flags(c, &qids, now)?;
        let first = bulk::max_id(c, "ballots")? + 1;
        seed_panel(c, &qids, first, &mut rng, now)?;
        bulk::rebuild_counters(c)?;
        question::refresh_hot_ranks(c, now)?;
        // A fresh install's reports show the demo's activity (its votes, three views each, and
        // the questions asked); rollups that hold real traffic are left alone.
        if models::rollup::is_empty(c)? {
            models::rollup::rebuild_from_ballots(c, DEMO_VIEWS_PER_VOTE)?;
        }
        Ok(DEMO.len())
    })
}
