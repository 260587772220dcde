//! `beebeta media ...`: garbage collection of media objects, and the image benchmark's tools.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use crate::db::Db;
use crate::media::image::{self, ImageLimits, samples};
use crate::media::store::MediaStore;
use crate::models;

/// What `media gc` may remove.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Delete (otherwise only report what would be deleted).
    pub apply: bool,
    /// Uploads attached to nothing are kept this long (a form being filled in refers to them).
    pub unattached_grace: Duration,
    /// Objects without a row are kept this long (an upload in flight writes its objects first).
    pub object_min_age: Duration,
    /// Show a progress bar on standard error.
    pub progress: bool,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            apply: false,
            unattached_grace: Duration::from_secs(24 * 3600),
            object_min_age: Duration::from_secs(3600),
            progress: false,
        }
    }
}

/// What `media gc` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Upload rows referenced by nothing live (deleted questions, abandoned forms).
    pub rows: usize,
    /// Objects no remaining row references.
    pub objects: usize,
    /// Their total size.
    pub bytes: u64,
    /// Objects kept.
    pub kept: usize,
    /// Whether anything was deleted.
    pub applied: bool,
}

impl std::fmt::Display for GcReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.applied {
            "deleted"
        } else {
            "would delete (dry run; --apply deletes)"
        };
        write!(
            f,
            "{verb}: {} upload row(s), {} object(s), {:.1} MB; {} object(s) kept",
            self.rows,
            self.objects,
            self.bytes as f64 / 1e6,
            self.kept
        )
    }
}

/// Removes upload rows that nothing live refers to (after the grace period), then objects that
/// no remaining row refers to (older than the minimum age). A dry run by default.
///
/// Safe alongside running servers: an upload writes its objects before its row, and a write
/// (even of an object that already exists) refreshes its modification time, so an object an
/// upload is about to reference is always younger than `object_min_age` and kept.
pub async fn gc(db: &Db, store: &MediaStore, opts: &GcOptions) -> Result<GcReport, String> {
    let now = models::now();
    let grace = chrono::Duration::from_std(opts.unattached_grace).map_err(|e| e.to_string())?;
    let (rows, live) = db
        .run(|c| Ok((models::media::all(c)?, models::media::live_references(c)?)))
        .await
        .map_err(|e| e.to_string())?;
    let doomed_rows: Vec<String> = rows
        .iter()
        .filter(|r| !live.contains(&r.id) && r.created_at < now - grace)
        .map(|r| r.id.clone())
        .collect();
    let doomed: HashSet<&str> = doomed_rows.iter().map(String::as_str).collect();
    let kept_keys: HashSet<String> = rows
        .iter()
        .filter(|r| !doomed.contains(r.id.as_str()))
        .flat_map(|r| r.rendition_list().into_iter().map(|x| x.key))
        .collect();
    let mut report = GcReport {
        rows: doomed_rows.len(),
        applied: opts.apply,
        ..GcReport::default()
    };
    if opts.apply && !doomed_rows.is_empty() {
        let ids = doomed_rows.clone();
        db.write(move |c| Ok(models::media::delete(c, &ids)?))
            .await
            .map_err(|e| e.to_string())?;
    }
    let listed = store.list("img").await.map_err(|e| e.to_string())?;
    let min_age = chrono::Duration::from_std(opts.object_min_age).map_err(|e| e.to_string())?;
    let cutoff = Utc::now() - min_age;
    let bar = if opts.progress {
        let bar = ProgressBar::new(listed.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} objects ({eta})")
                .map_err(|e| e.to_string())?,
        );
        bar.set_message(if opts.apply { "deleting" } else { "checking" });
        bar
    } else {
        ProgressBar::hidden()
    };
    for object in &listed {
        bar.inc(1);
        if kept_keys.contains(&object.key) || object.last_modified > cutoff {
            report.kept += 1;
            continue;
        }
        report.objects += 1;
        report.bytes += object.size;
        if opts.apply {
            store
                .delete(&object.key)
                .await
                .map_err(|e| format!("deleting {}: {e}", object.key))?;
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

/// Peak resident memory of this process so far (Linux `VmHWM`), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Processes a file into renditions as an upload would, without storing anything; one line of
/// JSON with the time (median of `repeat` runs), the peak memory and the renditions.
pub fn process_file(path: &str, repeat: u32) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let before = peak_rss_kib();
    let limits = ImageLimits {
        max_bytes: usize::MAX,
        ..ImageLimits::default()
    };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let result = image::process(&bytes, &limits);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        last = Some(result);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let out = match last.expect("at least one run") {
        Ok(p) => serde_json::json!({
            "file": path,
            "bytes": bytes.len(),
            "source": format!("{:?} {}x{}", p.source_format, p.source_width, p.source_height),
            "median_ms": (median * 10.0).round() / 10.0,
            "runs": times.len(),
            "peak_rss_kib": peak_rss_kib(),
            "rss_before_kib": before,
            "renditions": p.renditions.iter().map(|r| serde_json::json!({
                "width": r.width, "height": r.height, "type": r.content_type, "bytes": r.bytes.len()
            })).collect::<Vec<_>>(),
        }),
        Err(refusal) => serde_json::json!({
            "file": path,
            "bytes": bytes.len(),
            "refused": refusal.code(),
            "message": refusal.to_string(),
            "median_ms": (median * 10.0).round() / 10.0,
            "peak_rss_kib": peak_rss_kib(),
            "rss_before_kib": before,
        }),
    };
    Ok(out.to_string())
}

/// Writes a synthetic test image: `photo` (opaque, JPEG or PNG by the extension), `graphic`
/// (transparent PNG) or `bomb` (a PNG header declaring the size, with no real pixel data).
pub fn sample(kind: &str, width: u32, height: u32, out: &str) -> Result<(), String> {
    let format = ::image::ImageFormat::from_path(out).map_err(|e| format!("{out}: {e}"))?;
    let bytes = match kind {
        "photo" => samples::encoded_photo(width, height, format),
        "graphic" => samples::encoded_graphic(width, height),
        "bomb" => samples::png_declaring(width, height),
        other => return Err(format!("unknown sample `{other}`: photo, graphic or bomb")),
    };
    std::fs::write(out, bytes).map_err(|e| format!("{out}: {e}"))
}
