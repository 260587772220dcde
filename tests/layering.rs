//! The layering of `src/` as `docs/ARCHITECTURE.md` states it, checked on every `cargo test`:
//! no import cycle between modules, no module reaching up to a higher layer, no HTTP (Rocket)
//! below the services' callers, no SQL (Diesel) in the routes. The domain and cache layers are
//! crates of their own (`crates/`), so Cargo already keeps them from reaching up.
//!
//! Modules are the top-level modules of the crate, and for the big ones (`routes`, `services`,
//! `models`, `auth`, ...) their direct submodules. A module's imports are the `crate::` and
//! `super::` paths in its files outside `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom; a module may import its own layer (without cycles) and lower ones.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["config", "error"]),
    (
        "infrastructure",
        &["db", "telemetry", "compress", "assets", "embedded"],
    ),
    ("models", &["models"]),
    (
        "adapters",
        &["auth", "media", "mail", "limits", "page_cache"],
    ),
    ("analytics", &["analytics"]),
    ("services", &["services"]),
    ("state", &["state"]),
    ("routes", &["routes"]),
    ("entry", &["app", "cli", "lib", "main"]),
];

/// Top-level modules whose submodules are modules of their own in the graph.
const SPLIT: &[&str] = &[
    "routes",
    "services",
    "models",
    "auth",
    "analytics",
    "telemetry",
    "media",
    "db",
    "cli",
];

/// Crates a layer must not use, and why.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("models", "rocket", "models know no HTTP"),
    ("db", "rocket", "the database layer knows no HTTP"),
    (
        "services",
        "rocket",
        "services return AppResult; the routes turn it into HTTP",
    ),
    (
        "routes",
        "diesel",
        "handlers hold no SQL: they call services or models",
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/routes/api/votes.rs` → `["routes", "api", "votes"]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).expect("under src");
    let mut segs: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segs
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
        && segs.len() > 1
    {
        segs.pop();
    }
    segs
}

/// The graph node of a module path: its top-level module, or top-level::sub for [`SPLIT`] ones.
fn node(path: &[String]) -> Option<String> {
    let top = path.first()?;
    if !src().join(format!("{top}.rs")).exists() && !src().join(top).is_dir() {
        return None;
    }
    match path.get(1) {
        Some(sub) if SPLIT.contains(&top.as_str()) => {
            let dir = src().join(top);
            if dir.join(format!("{sub}.rs")).exists() || dir.join(sub).is_dir() {
                Some(format!("{top}::{sub}"))
            } else {
                Some(top.clone())
            }
        }
        _ => Some(top.clone()),
    }
}

/// The code of a file without comments, string contents and `#[cfg(test)]` modules.
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    match out.find("#[cfg(test)]\nmod ") {
        Some(i) => out[..i].to_string(),
        None => out,
    }
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let plain = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![plain.to_string()];
    };
    let head = tree[..open].trim_end_matches("::").trim();
    let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    parts.push(cur);
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p))
        .map(|sub| match (head.is_empty(), sub.as_str()) {
            (true, _) => sub,
            (false, "self") => head.to_string(),
            (false, _) => format!("{head}::{sub}"),
        })
        .collect()
}

/// Every module path a file's code names: `use crate::...`, `use super::...` and inline paths.
fn imports(code: &str, own: &[String]) -> Vec<Vec<String>> {
    let mut paths: Vec<String> = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let start = &rest[i + 4..];
        let end = start.find(';').unwrap_or(start.len());
        let tree = start[..end].trim();
        if tree.starts_with("crate::") || tree.starts_with("super::") {
            paths.extend(expand(tree));
        }
        rest = &start[end..];
    }
    for prefix in ["crate::", "super::"] {
        let mut at = 0;
        while let Some(i) = code[at..].find(prefix) {
            let s = at + i;
            let before = code[..s].chars().last();
            at = s + prefix.len();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let tail: String = code[s..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(tail.trim_end_matches(':').to_string());
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let mut segs: Vec<&str> = p.split("::").map(str::trim).collect();
            let mut base: Vec<String> = own.to_vec();
            if segs.first() == Some(&"crate") {
                segs.remove(0);
                base.clear();
            } else {
                while segs.first() == Some(&"super") {
                    segs.remove(0);
                    base.pop()?;
                }
            }
            base.extend(
                segs.iter()
                    .filter(|s| !s.is_empty() && **s != "self" && **s != "*")
                    .map(|s| s.to_string()),
            );
            Some(base)
        })
        .collect()
}

struct Graph {
    edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    uses: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut g = Graph {
        edges: BTreeMap::new(),
        uses: BTreeMap::new(),
    };
    for file in files {
        let own = module_path(&file);
        let Some(me) = node(&own) else { continue };
        let text = std::fs::read_to_string(&file).expect("read file");
        let code = code(&text);
        let rel = file.strip_prefix(src()).unwrap().display().to_string();
        for krate in ["rocket", "diesel"] {
            let used = code.contains(&format!("{krate}::"))
                || code.contains(&format!("use {krate}"))
                || code.contains(&format!("#[{krate}::"));
            if used {
                g.uses
                    .entry(krate.to_string())
                    .or_default()
                    .insert(rel.clone());
            }
        }
        g.edges.entry(me.clone()).or_default();
        for path in imports(&code, &own) {
            let Some(target) = node(&path) else { continue };
            if target != me && !me.starts_with(&format!("{target}::")) {
                g.edges
                    .entry(me.clone())
                    .or_default()
                    .entry(target)
                    .or_default()
                    .insert(rel.clone());
            }
        }
    }
    g
}

fn layer_of(node: &str) -> usize {
    let top = node.split("::").next().unwrap_or(node);
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&top))
        .unwrap_or_else(|| {
            panic!("module `{top}` is in no layer: add it to LAYERS and ARCHITECTURE.md")
        })
}

#[test]
fn no_module_imports_a_higher_layer() {
    let g = graph();
    let mut wrong = Vec::new();
    for (from, targets) in &g.edges {
        for (to, files) in targets {
            let (lf, lt) = (layer_of(from), layer_of(to));
            if lt > lf {
                wrong.push(format!(
                    "{from} ({}) -> {to} ({}) in {files:?}",
                    LAYERS[lf].0, LAYERS[lt].0
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_cycles_between_modules() {
    let g = graph();
    // Tarjan's strongly connected components.
    struct State<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        cycles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        let targets: Vec<&'a str> =
            s.g.edges
                .get(v)
                .map(|t| t.keys().map(String::as_str).collect())
                .unwrap_or_default();
        for w in targets {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.cycles.push(comp);
            }
        }
    }
    let mut s = State {
        g: &g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for v in g.edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    let report: Vec<String> = s
        .cycles
        .iter()
        .map(|comp| {
            let set: BTreeSet<&str> = comp.iter().copied().collect();
            let mut lines = vec![format!("cycle: {}", comp.join(", "))];
            for from in &set {
                for (to, files) in &g.edges[*from] {
                    if set.contains(to.as_str()) {
                        lines.push(format!("  {from} -> {to} in {files:?}"));
                    }
                }
            }
            lines.join("\n")
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn no_http_below_the_routes_and_no_sql_in_them() {
    let g = graph();
    let mut wrong = Vec::new();
    for (dir, krate, why) in FORBIDDEN {
        for file in g.uses.get(*krate).into_iter().flatten() {
            if file.starts_with(&format!("{dir}/")) || file == &format!("{dir}.rs") {
                wrong.push(format!("{file} uses {krate}: {why}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_checker_sees_imports() {
    // The parser itself: nested use trees, `self`, `super`, aliases and inline paths.
    let found = imports(
        &code(
            "use crate::a::{b, c::{d as e, self}};\nuse super::f;\nfn x() { crate::g::h(); }\n\
             // crate::not_this\nlet s = \"crate::nor_this\";",
        ),
        &["routes".to_string(), "votes".to_string()],
    );
    let joined: BTreeSet<String> = found.iter().map(|p| p.join("::")).collect();
    for want in ["a::b", "a::c::d", "a::c", "routes::f", "g::h"] {
        assert!(joined.contains(want), "{want} in {joined:?}");
    }
    assert!(
        !joined
            .iter()
            .any(|p| p.contains("not_this") || p.contains("nor_this"))
    );
}
