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
    let max = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
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
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{t}</title><desc id="{id}-d">{d} over {n} points; highest value {max}. The table below lists every value.</desc>"#,
        t = esc(title),
        d = esc(&names.join(", ")),
    );
    // Axes and gridlines at 0, 50 % and 100 % of the maximum.
    for frac in [0.0, 0.5, 1.0] {
        let v = (max as f64 * frac).round() as i64;
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#d4d4d8" stroke-width="1"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#52525b">{v}</text>"##,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = yy + 4.0,
        );
    }
    let every = n.div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#52525b">{}</text>"##,
                x(i),
                H - BOTTOM + 18.0,
                esc(label)
            );
        }
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
    let (w, h) = (left + cell * 24.0 + 4.0, top + cell * 7.0 + 4.0);
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
            let opacity = if *v == 0 {
                0.04
            } else {
                0.15 + 0.85 * *v as f64 / max as f64
            };
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
    s.push_str("</svg>");
    s
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
        assert_eq!(hm.matches("<rect").count(), 7 * 24);
    }
}
