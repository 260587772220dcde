//! Server-drawn SVG charts (no JavaScript): a line chart and an hour × weekday heatmap. Each is
//! `role="img"` with a `<title>` and `<desc>`; the pages put the same numbers in a table beside it.
//! Colours are presentation attributes (the CSP allows no inline styles).

use std::fmt::Write as _;

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round step for an axis from 0 to `max` with about four intervals: 1, 2 or 5 times a
/// power of ten (counts are whole: never below 1).
pub fn nice_step(max: i64) -> i64 {
    let raw = (max.max(1) as f64 / 4.0).max(1.0);
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow);
    step.round().max(1.0) as i64
}

/// Which of `n` x labels to show so that about `room` fit: every k-th from the first (the last
/// only when it falls on the step, so that the last two never overlap).
pub fn shown_labels(n: usize, room: usize) -> Vec<usize> {
    let every = n.div_ceil(room.max(1)).max(1);
    (0..n).step_by(every).collect()
}

/// One line of a line chart.
pub struct Line<'a> {
    /// Its name (legend).
    pub name: &'a str,
    /// A value per x label.
    pub values: Vec<i64>,
    /// Stroke colour.
    pub colour: &'a str,
}

/// A line chart of `lines` over `labels` (x axis); `id` makes the title's id unique in a page.
pub fn line_chart(id: &str, title: &str, labels: &[String], lines: &[Line<'_>]) -> String {
    let highest = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .max()
        .unwrap_or(0);
    // The axis ends on a round tick at or above the highest value.
    let step = nice_step(highest);
    let max = (highest.max(1) + step - 1) / step * step;
    let n = labels.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: i64| TOP + plot_h - plot_h * v as f64 / max as f64;
    let names: Vec<&str> = lines.iter().map(|l| l.name).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{t}</title><desc id="{id}-d">{d} over {n} points; highest value {highest}. The table below lists every value.</desc>"#,
        t = esc(title),
        d = esc(&names.join(", ")),
    );
    // Gridlines at round values: 0, step, 2 × step, ... up to the top of the axis.
    for v in (0..=max).step_by(step as usize) {
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#d4d4d8" stroke-width="1"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#52525b">{v}</text>"##,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = yy + 4.0,
        );
    }
    for i in shown_labels(n, 8) {
        let Some(label) = labels.get(i) else { continue };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#52525b">{}</text>"##,
            x(i),
            H - BOTTOM + 18.0,
            esc(label)
        );
    }
    for (k, line) in lines.iter().enumerate() {
        let points: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{p}"/>"#,
            c = esc(line.colour),
            p = points.join(" ")
        );
        let lx = LEFT + 140.0 * k as f64;
        let _ = write!(
            s,
            r##"<rect x="{lx}" y="{ly}" width="12" height="4" fill="{c}"/><text x="{tx}" y="{ty}" font-size="12" fill="#27272a">{name}</text>"##,
            ly = H - 12.0,
            c = esc(line.colour),
            tx = lx + 16.0,
            ty = H - 7.0,
            name = esc(line.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Short weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A heatmap of `grid[weekday][hour]` (Monday first, hours 0–23 UTC).
pub fn heatmap(id: &str, title: &str, grid: &[Vec<i64>]) -> String {
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let (cell, left, top) = (26.0, 40.0, 20.0);
    let legend_top = top + cell * 7.0 + 12.0;
    let (w, h) = (left + cell * 24.0 + 4.0, legend_top + 34.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart heatmap" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{t}</title><desc id="{id}-d">Darker cells had more activity; the busiest hour had {max}. The table below lists every value.</desc>"#,
        t = esc(title),
    );
    for hour in (0..24).step_by(3) {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="14" font-size="11" text-anchor="middle" fill="#52525b">{hour:02}</text>"##,
            left + cell * hour as f64 + cell / 2.0
        );
    }
    for (d, row) in grid.iter().enumerate().take(7) {
        let yy = top + cell * d as f64;
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#52525b">{}</text>"##,
            left - 6.0,
            yy + cell / 2.0 + 4.0,
            WEEKDAYS[d]
        );
        for (hour, v) in row.iter().enumerate().take(24) {
            let opacity = shade(*v, max);
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{yy:.1}" width="{}" height="{}" rx="3" fill="#2563eb" fill-opacity="{opacity:.2}"><title>{} {hour:02}:00 UTC: {v}</title></rect>"##,
                left + cell * hour as f64,
                cell - 2.0,
                cell - 2.0,
                WEEKDAYS[d]
            );
        }
    }
    // The colour scale: five swatches from none to the busiest hour, each with its value.
    let _ = write!(
        s,
        r##"<text x="{left}" y="{:.1}" font-size="11" fill="#52525b">Activity per hour:</text>"##,
        legend_top + 12.0
    );
    for (k, frac) in [0.0, 0.25, 0.5, 0.75, 1.0].into_iter().enumerate() {
        let v = (max as f64 * frac).round() as i64;
        let x0 = left + 120.0 + 64.0 * k as f64;
        let _ = write!(
            s,
            r##"<rect x="{x0}" y="{y0:.1}" width="18" height="18" rx="3" fill="#2563eb" fill-opacity="{o:.2}"/><text x="{tx}" y="{ty:.1}" font-size="11" fill="#52525b">{v}</text>"##,
            y0 = legend_top,
            o = shade(v, max),
            tx = x0 + 22.0,
            ty = legend_top + 13.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// A heatmap cell's opacity for `v` of `max`: faint for none, then in proportion.
fn shade(v: i64, max: i64) -> f64 {
    if v <= 0 {
        0.04
    } else {
        0.15 + 0.85 * v as f64 / max.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_accessible_and_escaped() {
        let svg = line_chart(
            "c1",
            "Votes <per> day",
            &["a&b".into(), "c".into()],
            &[Line {
                name: "Votes",
                values: vec![1, 3],
                colour: "#2563eb",
            }],
        );
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"c1-t\">Votes &lt;per&gt; day</title>"));
        assert!(svg.contains("a&amp;b"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        let grid = vec![vec![0; 24]; 7];
        let hm = heatmap("h", "Activity", &grid);
        assert_eq!(
            hm.matches("<rect").count(),
            7 * 24 + 5,
            "cells and the colour scale"
        );
        assert!(hm.contains("Activity per hour:"));
    }

    #[test]
    fn axes_have_round_ticks_and_labels_that_do_not_overlap() {
        assert_eq!(nice_step(3), 1);
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(37), 10);
        assert_eq!(nice_step(644), 200);
        assert_eq!(nice_step(1_000_000), 500_000);
        for max in [1, 3, 7, 19, 644, 12_345] {
            let step = nice_step(max);
            let first = step.to_string();
            let digits = first.trim_end_matches('0');
            assert!(matches!(digits, "1" | "2" | "5"), "{max}: {step}");
            assert!(max / step <= 5, "about four intervals: {max}: {step}");
        }
        // 0, 1, 2, 3: not 0 / 2 / 3.
        let svg = line_chart(
            "c",
            "t",
            &["a".into(), "b".into()],
            &[Line {
                name: "Votes",
                values: vec![1, 3],
                colour: "#000",
            }],
        );
        for tick in [">0</text>", ">1</text>", ">2</text>", ">3</text>"] {
            assert!(svg.contains(tick), "{tick}");
        }
        // 30 days: every 4th label, and the last two never crowd each other.
        let shown = shown_labels(30, 8);
        assert_eq!(shown, vec![0, 4, 8, 12, 16, 20, 24, 28]);
        assert!(shown.windows(2).all(|w| w[1] - w[0] == 4));
    }
}
