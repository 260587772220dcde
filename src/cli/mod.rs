//! The command line: `serve` (default), `migrate`, `seed-demo`, `create-admin`, `generate`,
//! `media gc|process|sample`, `assets export`.

pub mod admin;
pub mod generate;
pub mod media;
pub mod words;

use clap::{Parser, Subcommand};

use crate::assets::Assets;
use crate::auth::Keys;
use crate::config::Settings;
use crate::db::Db;
use crate::embedded::StaticSource;
use crate::services::demo;

/// Beebeta, a public opinion polling site.
#[derive(Debug, Parser)]
#[command(name = "beebeta", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo questions and votes (into an empty database unless --force).
    SeedDemo {
        /// Seed even if the database already has questions.
        #[arg(long)]
        force: bool,
    },
    /// Create an admin, or give an existing user the admin role. The password is prompted for,
    /// or read from standard input when it is not a terminal.
    CreateAdmin {
        /// Username of the admin.
        #[arg(long)]
        username: String,
        /// Email of the admin.
        #[arg(long)]
        email: String,
    },
    /// Load a reproducible synthetic data set for benchmarks.
    Generate {
        /// Number of questions.
        #[arg(long, default_value_t = 1_000)]
        questions: u64,
        /// Number of votes (ballots).
        #[arg(long, default_value_t = 10_000)]
        votes: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A preset size: `small` (1k questions, 10k votes) or `large` (1M questions, 10M votes).
        #[arg(long)]
        scale: Option<String>,
    },
    /// Index questions for search that have no search row yet (e.g. after an interrupted
    /// migration); with --all, rebuild every question's row.
    SearchReindex {
        /// Drop every search row first and index all questions again.
        #[arg(long)]
        all: bool,
    },
    /// Media storage: garbage collection, and the image benchmark's tools.
    Media {
        /// What to do.
        #[command(subcommand)]
        action: MediaCommand,
    },
    /// The static assets the binary serves.
    Assets {
        /// What to do.
        #[command(subcommand)]
        action: AssetsCommand,
    },
}

/// `beebeta assets ...`
#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// Write the static assets under their hashed names (the names pages link to), with gzip
    /// variants, into DIR: for nginx or a CDN to serve `/static/` themselves.
    Export {
        /// The folder to write (created when missing).
        dir: String,
    },
}

/// `beebeta media ...`
#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Remove objects no row references, and uploads nothing live uses (images of deleted
    /// questions, uploads of abandoned forms). A dry run unless --apply.
    Gc {
        /// Delete; without it, only report what would be deleted.
        #[arg(long)]
        apply: bool,
        /// Keep uploads attached to nothing for this many hours.
        #[arg(long, default_value_t = 24)]
        grace_hours: u64,
        /// Keep objects without a row for this many minutes (uploads in flight).
        #[arg(long, default_value_t = 60)]
        min_age_minutes: u64,
    },
    /// Process an image file into renditions as an upload would (nothing is stored) and print
    /// the time and peak memory as JSON.
    Process {
        /// The image file.
        file: String,
        /// Runs; the median time is printed.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
    },
    /// Write a synthetic image for tests and benchmarks.
    Sample {
        /// `photo`, `graphic` (transparent) or `bomb` (a header declaring the size).
        kind: String,
        /// Width in pixels.
        #[arg(long)]
        width: u32,
        /// Height in pixels.
        #[arg(long)]
        height: u32,
        /// Output file; the extension picks the format (.jpg, .png, .webp, .gif).
        out: String,
    },
}

fn open(settings: &Settings) -> Result<Db, String> {
    let db = Db::connect(&settings.app.database)?;
    crate::services::schema::migrate(&db)?;
    Ok(db)
}

/// Runs a non-serving command; `Ok(true)` means "now serve".
pub fn run(command: Option<Command>, settings: &Settings) -> Result<bool, String> {
    match command.unwrap_or(Command::Serve) {
        Command::Serve => Ok(true),
        Command::Migrate => {
            let db = Db::connect(&settings.app.database)?;
            let n = crate::services::schema::migrate(&db)?;
            println!("applied {n} migration(s)");
            Ok(false)
        }
        Command::SearchReindex { all } => {
            let db = open(settings)?;
            let started = std::time::Instant::now();
            let n = crate::services::schema::reindex(&db, all)?;
            println!(
                "indexed {n} question(s) for search in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(false)
        }
        Command::SeedDemo { force } => {
            let db = open(settings)?;
            let empty = demo::is_empty(&db).map_err(|e| e.to_string())?;
            if !empty && !force {
                return Err(
                    "the database already has questions: use --force to add the demo anyway".into(),
                );
            }
            let n = demo::seed_demo(&db).map_err(|e| e.to_string())?;
            println!("seeded {n} demo questions");
            Ok(false)
        }
        Command::CreateAdmin { username, email } => {
            // The admin's two-factor secret is sealed with the site's key: it must be the one
            // the servers use, not a random one for this process.
            if settings.app.site.secret_key.is_none() && !settings.app.database.is_embedded() {
                return Err(
                    "create-admin needs the site's BEEBETA_SECRET_KEY (it seals the \
                            admin's two-factor secret)"
                        .into(),
                );
            }
            let settings = settings.clone().for_serving()?;
            let keys = Keys::new(&settings.app.site.secret_bytes());
            let db = open(&settings)?;
            let password = read_password()?;
            let outcome = admin::create_admin(&db, &keys, &username, &email, &password)?;
            print!("{outcome}");
            Ok(false)
        }
        Command::Generate {
            questions,
            votes,
            seed,
            scale,
        } => {
            let (questions, votes) = match scale.as_deref() {
                None => (questions, votes),
                Some("small") => (1_000, 10_000),
                Some("large") => (1_000_000, 10_000_000),
                Some(other) => return Err(format!("unknown scale `{other}`: use small or large")),
            };
            // Bulk loading and the counter rebuild over millions of rows run longer than a
            // page's statement limit: on MariaDB this connection pool has none.
            let mut database = settings.app.database.clone();
            if !database.is_embedded() {
                database.statement_timeout_ms = 0;
                database.read_timeout_ms = 0;
                database.write_timeout_ms = 0;
            }
            let db = Db::connect(&database)?;
            crate::services::schema::migrate(&db)?;
            let started = std::time::Instant::now();
            let (first, last) = generate::generate(
                &db,
                generate::GenerateOptions {
                    questions,
                    votes,
                    seed,
                },
            )
            .map_err(|e| e.to_string())?;
            println!(
                "generated {questions} questions (ids {first}..={last}) and {votes} votes in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            Ok(false)
        }
        Command::Media { action } => run_media(action, settings),
        Command::Assets {
            action: AssetsCommand::Export { dir },
        } => {
            let site = &settings.app.site;
            let source = StaticSource::from_setting(&site.static_dir);
            let assets = Assets::load(&source, &site.static_url)?;
            let n = assets.export(std::path::Path::new(&dir))?;
            println!("wrote {n} files ({}) into {dir}", source.describe());
            Ok(false)
        }
    }
}

fn run_media(action: MediaCommand, settings: &Settings) -> Result<bool, String> {
    match action {
        MediaCommand::Gc {
            apply,
            grace_hours,
            min_age_minutes,
        } => {
            let db = open(settings)?;
            let media = crate::media::Media::from_config(&settings.app.media)?;
            let opts = media::GcOptions {
                apply,
                unattached_grace: std::time::Duration::from_secs(grace_hours * 3600),
                object_min_age: std::time::Duration::from_secs(min_age_minutes * 60),
                progress: true,
            };
            let runtime = rocket::tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            let report = runtime.block_on(media::gc(&db, media.store(), &opts))?;
            println!("{}: {report}", media.store().describe());
            Ok(false)
        }
        MediaCommand::Process { file, repeat } => {
            println!("{}", media::process_file(&file, repeat)?);
            Ok(false)
        }
        MediaCommand::Sample {
            kind,
            width,
            height,
            out,
        } => {
            media::sample(&kind, width, height, &out)?;
            println!("wrote {out}");
            Ok(false)
        }
    }
}

fn read_password() -> Result<String, String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 10 characters): ")
            .map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Password again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
