//! The admin dashboard and popularity reports, computed from the analytics rollups. A report is
//! five queries (four top-20 lists and the site's hourly totals, from which the per-day series
//! and the hour × weekday heatmap are summed here). [`Reports`] builds them off the request path
//! and keeps them for `report_cache_secs`; the standard windows are rebuilt in the background.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Datelike, NaiveDateTime, Timelike};
use tokio::sync::{Semaphore, watch};

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::report::{ReportRange, ReportWindow, unusual_network_share};
use crate::error::{AppError, AppResult};
use crate::models::ranking::{self, Winner};
use crate::models::report::{self, SiteHour, TopBy, TopQuestion, TopTag};

/// The site's totals over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Page views.
    pub page_views: i64,
    /// Votes cast.
    pub votes: i64,
    /// Sign-ups.
    pub signups: i64,
    /// Logins.
    pub logins: i64,
    /// Questions asked.
    pub questions_asked: i64,
}

impl Totals {
    fn add(&mut self, h: &SiteHour) {
        self.page_views += h.page_views;
        self.votes += h.votes;
        self.signups += h.signups;
        self.logins += h.logins;
        self.questions_asked += h.questions_asked;
    }

    fn plus(&mut self, o: &Totals) {
        self.page_views += o.page_views;
        self.votes += o.votes;
        self.signups += o.signups;
        self.logins += o.logins;
        self.questions_asked += o.questions_asked;
    }

    fn over(hours: &[SiteHour], start: NaiveDateTime, end: NaiveDateTime) -> Totals {
        let mut t = Totals::default();
        for h in hours.iter().filter(|h| h.hour >= start && h.hour < end) {
            t.add(h);
        }
        t
    }

    fn named(&self) -> [(&'static str, i64); 5] {
        [
            ("Page views", self.page_views),
            ("Votes", self.votes),
            ("Sign-ups", self.signups),
            ("Logins", self.logins),
            ("Questions asked", self.questions_asked),
        ]
    }
}

/// The change from `previous` to `current`: `+12%`, `-5%`, `0%`, or `new` when the previous
/// period had none.
pub fn change(current: i64, previous: i64) -> String {
    if previous == 0 {
        return if current == 0 { "0%" } else { "new" }.to_string();
    }
    let pct = ((current - previous) as f64 * 100.0 / previous as f64).round() as i64;
    if pct > 0 {
        format!("+{pct}%")
    } else {
        format!("{pct}%")
    }
}

/// One figure of the dashboard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metric {
    /// What is counted.
    pub name: &'static str,
    /// In this period.
    pub current: i64,
    /// In the period of the same length just before.
    pub previous: i64,
    /// See [`change`].
    pub change: String,
}

/// A dashboard column: the last 24 hours, 7 days or 30 days against the period of the same
/// length just before, read from the report of that window (so the dashboard and the report
/// show the same numbers, built at the same moment).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Period {
    /// `24 hours`, `7 days`, `30 days`.
    pub label: &'static str,
    /// The report window (`day`, `week`, `month`), for the link to the report.
    pub window: &'static str,
    /// The five figures (none while the report is being prepared).
    pub metrics: Vec<Metric>,
    /// When the report these figures come from was built (`None`: being prepared).
    pub built_at: Option<NaiveDateTime>,
}

impl Period {
    /// The column of a built report of `window`.
    pub fn of(window: ReportWindow, built: Option<&Built>) -> Period {
        let label = match window {
            ReportWindow::Day => "24 hours",
            ReportWindow::Week => "7 days",
            ReportWindow::Month => "30 days",
            ReportWindow::All => "all time",
        };
        let metrics = built.map(|b| b.report.figures()).unwrap_or_default();
        Period {
            label,
            window: window.as_str(),
            metrics,
            built_at: built.map(|b| b.built_at),
        }
    }
}

/// The dashboard at `now`: the standard windows' reports (kept, or built within
/// `report_wait_ms`), each column its report's totals against the period before.
pub async fn dashboard(reports: &Reports, now: NaiveDateTime) -> AppResult<Vec<Period>> {
    let mut periods = Vec::with_capacity(WINDOWS.len());
    for w in WINDOWS {
        let built = match reports.get(ReportRange::window(w, now), now).await? {
            Lookup::Ready(b) => Some(b),
            Lookup::Preparing => None,
        };
        periods.push(Period::of(w, built.as_deref()));
    }
    Ok(periods)
}

/// Days of a question's history an admin page shows at most (the last year of it).
pub const HISTORY_DAYS: i64 = 365;

/// One question's numbers over its life, from the daily rollups.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuestionHistory {
    /// The question.
    pub question: crate::models::moderation::ModQuestion,
    /// Each day from its first (or a year ago) to today: (day, views, votes), zeros included.
    pub days: Vec<(NaiveDateTime, i64, i64)>,
    /// Views over those days.
    pub views: i64,
    /// Votes over those days.
    pub votes: i64,
}

impl QuestionHistory {
    /// Votes per view, in percent (`None` without views).
    pub fn conversion(&self) -> Option<f64> {
        (self.views > 0).then(|| (self.votes as f64 * 1000.0 / self.views as f64).round() / 10.0)
    }
}

/// Question `id`'s views and votes per day since it was asked (at most [`HISTORY_DAYS`]); any
/// question, hidden or deleted ones too. An unknown id is a 404.
pub async fn question_history(db: &Db, id: i64, now: NaiveDateTime) -> AppResult<QuestionHistory> {
    db.run(move |c| {
        let question = crate::models::moderation::question(c, id).map_err(|e| match e {
            diesel::result::Error::NotFound => {
                AppError::NotFound("There is no such question.".into())
            }
            e => e.into(),
        })?;
        let today = now.date();
        let first = question
            .created_at
            .date()
            .max(today - chrono::Duration::days(HISTORY_DAYS - 1))
            .min(today);
        let start = first.and_time(chrono::NaiveTime::MIN);
        let end = (today + chrono::Duration::days(1)).and_time(chrono::NaiveTime::MIN);
        let rows = report::question_days(c, id, start, end)?;
        let mut days: Vec<(NaiveDateTime, i64, i64)> = Vec::new();
        let mut day = start;
        while day < end {
            days.push((day, 0, 0));
            day += chrono::Duration::days(1);
        }
        for (d, views, votes) in rows {
            let i = usize::try_from((d.date() - first).num_days()).ok();
            if let Some(slot) = i.and_then(|i| days.get_mut(i)) {
                slot.1 += views;
                slot.2 += votes;
            }
        }
        let views = days.iter().map(|d| d.1).sum();
        let votes = days.iter().map(|d| d.2).sum();
        Ok(QuestionHistory {
            question,
            days,
            views,
            votes,
        })
    })
    .await
}

/// One bucket (hour or day) of the activity series.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bucket {
    /// Its start.
    pub start: NaiveDateTime,
    /// Its totals.
    pub totals: Totals,
}

/// A popularity report.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// The period.
    pub range: ReportRange,
    /// Top questions by votes.
    pub questions_by_votes: Vec<TopQuestion>,
    /// Top questions by views.
    pub questions_by_views: Vec<TopQuestion>,
    /// Top tags by votes.
    pub tags_by_votes: Vec<TopTag>,
    /// Top tags by views.
    pub tags_by_views: Vec<TopTag>,
    /// Totals per hour (24 h window) or per day.
    pub series: Vec<Bucket>,
    /// Activity (page views plus votes) by weekday (Monday first) and hour of day.
    pub heatmap: Vec<Vec<i64>>,
    /// The site's totals over the period of the same length just before (up to the build, for
    /// a range that ends later).
    #[serde(default)]
    pub previous: Totals,
    /// Top questions whose ballots of the period came in an unusual share from one client
    /// network (`domain::report::unusual_network_share`), most concentrated first.
    #[serde(default)]
    pub unusual_networks: Vec<UnusualNetwork>,
    /// The instant-runoff winners of the ranked questions among the top questions (all
    /// ballots; a ranked question tied or without ballots has none), by question id.
    #[serde(default)]
    pub ranked_winners: HashMap<i64, Winner>,
}

/// A top question of the period whose ballots came in an unusual share from one network.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UnusualNetwork {
    /// The question.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its slug (the page's address).
    pub slug: String,
    /// Its ballots cast in the period.
    pub ballots: i64,
    /// The most of them cast from one network.
    pub top_network: i64,
    /// `top_network` as a percentage of `ballots`, one decimal.
    pub percent: f64,
}

/// The top questions (by votes or by views) whose ballots of `[start, end)` are concentrated in
/// one network, most concentrated first.
fn unusual_networks(
    c: &mut crate::db::AnyConnection,
    top: &[&TopQuestion],
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> AppResult<Vec<UnusualNetwork>> {
    let mut ids: Vec<i64> = top.iter().map(|q| q.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let named: HashMap<i64, &TopQuestion> = top.iter().map(|q| (q.id, *q)).collect();
    let mut flagged: Vec<UnusualNetwork> = report::network_shares(c, &ids, start, end)?
        .into_iter()
        .filter(|s| unusual_network_share(s.top_network, s.ballots))
        .filter_map(|s| Some((s, *named.get(&s.question_id)?)))
        .map(|(s, q)| UnusualNetwork {
            id: s.question_id,
            title: q.title.clone(),
            slug: q.slug.clone(),
            ballots: s.ballots,
            top_network: s.top_network,
            percent: (s.top_network as f64 * 1000.0 / s.ballots as f64).round() / 10.0,
        })
        .collect();
    flagged.sort_by(|a, b| b.percent.total_cmp(&a.percent).then(a.id.cmp(&b.id)));
    Ok(flagged)
}

impl Report {
    /// The five figures of the period against the period before.
    pub fn figures(&self) -> Vec<Metric> {
        self.totals()
            .named()
            .into_iter()
            .zip(self.previous.named())
            .map(|((name, c), (_, p))| Metric {
                name,
                current: c,
                previous: p,
                change: change(c, p),
            })
            .collect()
    }

    /// The site's totals over the period.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for b in &self.series {
            t.plus(&b.totals);
        }
        t
    }
}

/// Builds the report of `range` from the rollups (one connection, five statements).
pub fn build(c: &mut crate::db::AnyConnection, range: &ReportRange) -> AppResult<Report> {
    build_at(c, range, crate::models::now())
}

/// [`build`] at `now`: the period before is as long as the part of `range` that has passed.
pub fn build_at(
    c: &mut crate::db::AnyConnection,
    range: &ReportRange,
    now: NaiveDateTime,
) -> AppResult<Report> {
    // All time starts on the first day with data (the longest range when there is none).
    let mut range = range.clone();
    if range.window == Some(ReportWindow::All)
        && let Some(first) = report::first_hour(c)?
    {
        range.start = range
            .start
            .max(first.date().and_time(chrono::NaiveTime::MIN))
            .min(range.end - chrono::Duration::days(1));
    }
    let range = &range;
    let (s, e, h) = (range.start, range.end, range.hourly);
    let len = e.min(now).max(s) - s;
    // Tags have only a daily rollup: the 24 h window reads the whole days it touches.
    let tag_start = s.date().and_time(chrono::NaiveTime::MIN);
    let all_hours = report::site_hours(c, s - len, e)?;
    let previous = Totals::over(&all_hours, s - len, s);
    let hours: Vec<SiteHour> = all_hours.into_iter().filter(|r| r.hour >= s).collect();
    let mut series: Vec<Bucket> = range
        .buckets()
        .into_iter()
        .map(|start| Bucket {
            start,
            totals: Totals::default(),
        })
        .collect();
    let mut heatmap = vec![vec![0i64; 24]; 7];
    for row in &hours {
        let i = if h {
            (row.hour - s).num_hours()
        } else {
            (row.hour.date() - s.date()).num_days()
        };
        if let Some(b) = usize::try_from(i).ok().and_then(|i| series.get_mut(i)) {
            b.totals.add(row);
        }
        let wd = row.hour.weekday().num_days_from_monday() as usize;
        heatmap[wd][row.hour.hour() as usize] += row.page_views + row.votes;
    }
    let (questions_by_votes, questions_by_views) = report::top_questions_both(c, s, e, h)?;
    let top: Vec<&TopQuestion> = questions_by_votes
        .iter()
        .chain(&questions_by_views)
        .collect();
    let unusual_networks = unusual_networks(c, &top, s, e)?;
    let mut top_ids: Vec<i64> = top.iter().map(|q| q.id).collect();
    top_ids.sort_unstable();
    top_ids.dedup();
    let ranked_winners = ranking::winners(c, &top_ids)?;
    Ok(Report {
        range: range.clone(),
        questions_by_votes,
        questions_by_views,
        tags_by_votes: report::top_tags(c, tag_start, e, TopBy::Votes)?,
        tags_by_views: report::top_tags(c, tag_start, e, TopBy::Views)?,
        series,
        heatmap,
        previous,
        unusual_networks,
        ranked_winners,
    })
}

/// A report and when it was built.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Built {
    /// When its queries ran (UTC).
    pub built_at: NaiveDateTime,
    /// The report.
    pub report: Report,
}

/// What a report request gets.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The report (possibly built up to `report_cache_secs` ago).
    Ready(Arc<Built>),
    /// Still being built after `report_wait_ms`: ask again shortly.
    Preparing,
}

type Builder = dyn Fn(&ReportRange) -> AppResult<Report> + Send + Sync;

/// Builds reports off the request path and keeps them.
///
/// A report over a month of a busy site aggregates millions of rollup rows (seconds of database
/// time, see docs/ARCHITECTURE.md), so no request waits for one longer than `report_wait_ms`:
/// - the standard windows (24 h, 7 d, 30 d) are rebuilt in the background every
///   `report_refresh_secs` by one server at a time (a cache lease) and stored under the window's
///   name, so an admin gets the latest one, at most `report_cache_secs` old, at once;
/// - any other range (or a window nobody has built lately) is built by a background task,
///   at most [`MAX_BUILDS`] at a time; requests for it wait up to `report_wait_ms` and otherwise
///   get [`Lookup::Preparing`] (the page refreshes itself), and one build serves them all;
/// - finished reports go to the shared cache and to a small in-process memo, so a failing
///   memcached never makes a report impossible to get.
#[derive(Clone)]
pub struct Reports {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Cache,
    build: Arc<Builder>,
    keep_for: Duration,
    wait: Duration,
    refresh: Duration,
    memo: moka::sync::Cache<String, Arc<Built>>,
    building: Mutex<HashMap<String, watch::Receiver<bool>>>,
    permits: Arc<Semaphore>,
}

/// Reports built at once per server (the rest queue for a permit).
pub const MAX_BUILDS: usize = 2;

/// The standard windows the background task keeps warm.
pub const WINDOWS: [ReportWindow; 3] = [ReportWindow::Day, ReportWindow::Week, ReportWindow::Month];

impl Reports {
    /// Reports built from `db`'s rollups.
    pub fn new(db: Db, cache: Cache, cfg: &crate::config::ReportsConfig) -> Reports {
        let build = move |range: &ReportRange| db.background_blocking(|c| build(c, range));
        Reports::with_builder(
            cache,
            Duration::from_secs(cfg.cache_secs),
            Duration::from_millis(cfg.wait_ms),
            Duration::from_secs(cfg.refresh_secs),
            build,
        )
    }

    /// Reports made by `build` (tests give a builder they control). `keep_for` zero: every
    /// request builds its report and waits for it.
    pub fn with_builder(
        cache: Cache,
        keep_for: Duration,
        wait: Duration,
        refresh: Duration,
        build: impl Fn(&ReportRange) -> AppResult<Report> + Send + Sync + 'static,
    ) -> Reports {
        Reports {
            inner: Arc::new(Inner {
                cache,
                build: Arc::new(build),
                keep_for,
                wait,
                refresh,
                memo: moka::sync::Cache::builder()
                    .max_capacity(64)
                    .time_to_live(keep_for.max(Duration::from_secs(1)))
                    .build(),
                building: Mutex::new(HashMap::new()),
                permits: Arc::new(Semaphore::new(MAX_BUILDS)),
            }),
        }
    }

    /// How often the background task rebuilds the standard windows (zero: it does not).
    pub fn refresh_every(&self) -> Duration {
        if self.inner.keep_for.is_zero() {
            Duration::ZERO
        } else {
            self.inner.refresh
        }
    }

    /// A named window is kept under its name (its range moves with the clock); a custom range
    /// under its days.
    fn key(range: &ReportRange) -> String {
        match range.window {
            Some(w) => format!("report:window:{}", w.as_str()),
            None => format!("report:range:{}", range.key()),
        }
    }

    /// The kept report of `range`, if it is recent enough to show at `now`.
    fn kept(&self, key: &str, now: NaiveDateTime) -> Option<Arc<Built>> {
        let keep = chrono::Duration::from_std(self.inner.keep_for).ok()?;
        let fresh = |b: &Built| b.built_at + keep > now;
        if let Some(b) = self.inner.memo.get(key).filter(|b| fresh(b)) {
            return Some(b);
        }
        let b = self.inner.cache.get_json::<Built>(key).filter(fresh)?;
        let b = Arc::new(b);
        self.inner.memo.insert(key.to_string(), b.clone());
        Some(b)
    }

    /// The report of `range` at `now`: kept, or built within `report_wait_ms`, or
    /// [`Lookup::Preparing`] (always, for one not yet built, when the wait is zero).
    pub async fn get(&self, range: ReportRange, now: NaiveDateTime) -> AppResult<Lookup> {
        if self.inner.keep_for.is_zero() {
            let built = self.build_now(range, now).await?;
            return Ok(Lookup::Ready(Arc::new(built)));
        }
        let key = Reports::key(&range);
        if let Some(b) = self.kept(&key, now) {
            return Ok(Lookup::Ready(b));
        }
        let mut done = self.start(key.clone(), range, now);
        if self.inner.wait.is_zero() {
            // Never wait: the report is shown once built, on a later request.
            return Ok(Lookup::Preparing);
        }
        // `wait_for` also ends (with an error) if the build task is gone.
        let finished = tokio::time::timeout(self.inner.wait, done.wait_for(|d| *d))
            .await
            .is_ok();
        match self.kept(&key, now) {
            Some(b) => Ok(Lookup::Ready(b)),
            None if finished => Err(AppError::Unavailable(
                "The report could not be built; try again shortly.".into(),
            )),
            None => Ok(Lookup::Preparing),
        }
    }

    async fn build_now(&self, range: ReportRange, now: NaiveDateTime) -> AppResult<Built> {
        let build = self.inner.build.clone();
        tokio::task::spawn_blocking(move || {
            Ok(Built {
                built_at: now,
                report: build(&range)?,
            })
        })
        .await
        .map_err(|e| AppError::Internal(format!("report task failed: {e}")))?
    }

    /// Starts building `range` under `key` unless this server already is; the receiver turns
    /// `true` (or closes) when the build ends.
    fn start(&self, key: String, range: ReportRange, now: NaiveDateTime) -> watch::Receiver<bool> {
        let mut building = self
            .inner
            .building
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(rx) = building.get(&key) {
            return rx.clone();
        }
        let (tx, rx) = watch::channel(false);
        building.insert(key.clone(), rx.clone());
        drop(building);
        let this = self.clone();
        tokio::spawn(async move {
            let permit = this.inner.permits.clone().acquire_owned().await;
            let started = std::time::Instant::now();
            match this.build_now(range, now).await {
                Ok(built) => {
                    let ttl = this.inner.keep_for + this.inner.refresh;
                    this.inner.cache.set_json(&key, &built, ttl);
                    this.inner.memo.insert(key.clone(), Arc::new(built));
                    tracing::debug!(report = %key, ms = started.elapsed().as_millis() as u64, "report built");
                }
                Err(error) => tracing::warn!(report = %key, %error, "report build failed"),
            }
            drop(permit);
            this.inner
                .building
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
            let _ = tx.send(true);
        });
        rx
    }

    /// One round of the background task: rebuilds each standard window that no server has
    /// rebuilt in the last `report_refresh_secs`, one at a time, and waits for it.
    pub async fn refresh_windows(&self, now: NaiveDateTime) {
        let every = self.refresh_every();
        if every.is_zero() {
            return;
        }
        for w in WINDOWS {
            let range = ReportRange::window(w, now);
            let key = Reports::key(&range);
            let recent = chrono::Duration::from_std(every).unwrap_or_default();
            let stored = self.inner.cache.get_json::<Built>(&key);
            if stored.is_some_and(|b| b.built_at + recent > now + chrono::Duration::seconds(1)) {
                continue;
            }
            // One server per round: the lease lasts a little less than a round.
            let lease = format!("lease:report-refresh:{}", w.as_str());
            if !self.inner.cache.try_lease(
                &lease,
                every
                    .saturating_sub(Duration::from_secs(1))
                    .max(Duration::from_secs(1)),
            ) {
                continue;
            }
            let mut done = self.start(key, range, now);
            let _ = done.wait_for(|d| *d).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn empty(range: &ReportRange) -> Report {
        Report {
            range: range.clone(),
            questions_by_votes: vec![],
            questions_by_views: vec![],
            tags_by_votes: vec![],
            tags_by_views: vec![],
            series: vec![],
            heatmap: vec![vec![0; 24]; 7],
            previous: Totals::default(),
            unusual_networks: vec![],
            ranked_winners: HashMap::new(),
        }
    }

    fn cache() -> Cache {
        Cache::new(crate::cache::MemoryBackend::new(1 << 20), "t").unwrap()
    }

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 6, 10)
            .unwrap()
            .and_hms_opt(12, 30, 0)
            .unwrap()
    }

    fn custom() -> ReportRange {
        ReportRange::parse(None, Some("2026-05-01"), Some("2026-05-31"), now()).unwrap()
    }

    /// Reports whose builder counts its calls and blocks until `open` is true.
    fn counted(
        cache: Cache,
        keep: u64,
        wait_ms: u64,
        open: Arc<AtomicBool>,
    ) -> (Reports, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let reports = Reports::with_builder(
            cache,
            Duration::from_secs(keep),
            Duration::from_millis(wait_ms),
            Duration::from_secs(60),
            move |range: &ReportRange| {
                while !open.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                c.fetch_add(1, Ordering::SeqCst);
                Ok(empty(range))
            },
        );
        (reports, calls)
    }

    #[rocket::async_test]
    async fn a_slow_build_answers_preparing_and_one_build_serves_everyone() {
        let open = Arc::new(AtomicBool::new(false));
        let (reports, calls) = counted(cache(), 120, 50, open.clone());
        for _ in 0..3 {
            let got = reports.get(custom(), now()).await.unwrap();
            assert!(matches!(got, Lookup::Preparing), "the build is held");
        }
        open.store(true, Ordering::SeqCst);
        let mut ready = None;
        for _ in 0..100 {
            if let Lookup::Ready(b) = reports.get(custom(), now()).await.unwrap() {
                ready = Some(b);
                break;
            }
        }
        let built = ready.expect("ready once the build is released");
        assert_eq!(built.report.range, custom());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one build for four requests"
        );
    }

    #[rocket::async_test]
    async fn a_kept_report_is_reused_until_report_cache_secs() {
        let (reports, calls) = counted(cache(), 120, 5_000, Arc::new(AtomicBool::new(true)));
        for _ in 0..3 {
            assert!(matches!(
                reports.get(custom(), now()).await.unwrap(),
                Lookup::Ready(_)
            ));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let later = now() + chrono::Duration::seconds(121);
        let Lookup::Ready(b) = reports.get(custom(), later).await.unwrap() else {
            panic!("rebuilt within the wait");
        };
        assert_eq!(b.built_at, later);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[rocket::async_test]
    async fn with_keeping_off_every_request_builds() {
        let (reports, calls) = counted(cache(), 0, 0, Arc::new(AtomicBool::new(true)));
        for _ in 0..2 {
            assert!(matches!(
                reports.get(custom(), now()).await.unwrap(),
                Lookup::Ready(_)
            ));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(reports.refresh_every().is_zero());
    }

    #[rocket::async_test]
    async fn a_failing_build_is_a_503_and_the_next_request_tries_again() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let reports = Reports::with_builder(
            cache(),
            Duration::from_secs(120),
            Duration::from_secs(5),
            Duration::from_secs(60),
            move |_: &ReportRange| {
                c.fetch_add(1, Ordering::SeqCst);
                Err(AppError::Internal("rollups unreadable".into()))
            },
        );
        for n in 1..=2 {
            let err = reports.get(custom(), now()).await.unwrap_err();
            assert!(matches!(err, AppError::Unavailable(_)), "{err:?}");
            assert_eq!(calls.load(Ordering::SeqCst), n);
        }
    }

    #[rocket::async_test]
    async fn two_servers_sharing_a_cache_refresh_each_window_once() {
        let shared = cache();
        let (a, a_calls) = counted(shared.clone(), 120, 5_000, Arc::new(AtomicBool::new(true)));
        let (b, b_calls) = counted(shared, 120, 5_000, Arc::new(AtomicBool::new(true)));
        a.refresh_windows(now()).await;
        b.refresh_windows(now()).await;
        assert_eq!(a_calls.load(Ordering::SeqCst), 3, "day, week and month");
        assert_eq!(b_calls.load(Ordering::SeqCst), 0, "already fresh");
        // The other server serves the windows from the shared cache, even an hour on for the
        // 24 h window whose range has moved (within report_cache_secs of the build).
        for w in WINDOWS {
            let range = ReportRange::window(w, now() + chrono::Duration::seconds(60));
            let Lookup::Ready(got) = b
                .get(range, now() + chrono::Duration::seconds(60))
                .await
                .unwrap()
            else {
                panic!("{w:?} was refreshed");
            };
            assert_eq!(got.built_at, now());
            assert_eq!(got.report.range.window, Some(w));
        }
        assert_eq!(b_calls.load(Ordering::SeqCst), 0);
        // Even when the reports look old, nobody rebuilds while this round's leases are held
        // (they last a round of wall-clock time).
        let later = now() + chrono::Duration::seconds(61);
        a.refresh_windows(later).await;
        b.refresh_windows(later).await;
        assert_eq!(
            a_calls.load(Ordering::SeqCst) + b_calls.load(Ordering::SeqCst),
            3
        );
    }

    #[test]
    fn changes() {
        assert_eq!(change(0, 0), "0%");
        assert_eq!(change(5, 0), "new");
        assert_eq!(change(15, 10), "+50%");
        assert_eq!(change(5, 10), "-50%");
        assert_eq!(change(10, 10), "0%");
    }
}
