//! The files the binary carries: the Tera templates and the static assets (the migrations are
//! embedded by `db`). A release binary runs from any working directory with nothing beside it.
//!
//! On-disk folders still win when configured (`template_dir`, `static_dir`: theming, or editing
//! templates without a rebuild). A debug build without them reads the source tree's folders, so
//! `cargo run` picks up template edits at once.

use std::path::{Path, PathBuf};

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

/// `templates/`, compiled in.
#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Templates;

/// `static/`, compiled in.
#[derive(RustEmbed)]
#[folder = "static/"]
pub struct StaticFiles;

/// Where the site's static files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticSource {
    /// The copy inside the binary.
    Embedded,
    /// A folder on disk.
    Dir(PathBuf),
}

impl StaticSource {
    /// `static_dir` when set, else the source tree's `static/` in a debug build, else the copy
    /// inside the binary.
    pub fn from_setting(static_dir: &str) -> StaticSource {
        match static_dir.trim() {
            "" if cfg!(debug_assertions) => {
                StaticSource::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("static"))
            }
            "" => StaticSource::Embedded,
            dir => StaticSource::Dir(PathBuf::from(dir)),
        }
    }

    /// The source, for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            StaticSource::Embedded => "embedded".into(),
            StaticSource::Dir(d) => d.display().to_string(),
        }
    }
}

/// The template folder Rocket's template engine should read: `configured` when set, else the
/// source tree's `templates/` in a debug build, else the embedded templates written once into a
/// folder under the temporary directory named by their content hash (so servers of one release
/// share it and a new release gets a new one).
pub fn template_dir(configured: Option<&str>) -> Result<PathBuf, String> {
    if let Some(dir) = configured.map(str::trim).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if cfg!(debug_assertions) {
        return Ok(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"));
    }
    extract_templates(&std::env::temp_dir())
}

/// Writes the embedded templates under `parent` (once per content hash); returns the folder.
pub fn extract_templates(parent: &Path) -> Result<PathBuf, String> {
    let mut names: Vec<String> = Templates::iter().map(|n| n.into_owned()).collect();
    names.sort();
    let mut hasher = Sha256::new();
    for name in &names {
        let file = Templates::get(name).ok_or_else(|| format!("embedded template {name}"))?;
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(&file.data);
    }
    let digest = hasher.finalize();
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let dir = parent.join(format!("beebeta-templates-{hash}"));
    if dir.is_dir() {
        return Ok(dir);
    }
    let fail = |e: std::io::Error| {
        format!(
            "cannot write the templates under {} (set template_dir to a folder of templates): {e}",
            parent.display()
        )
    };
    // Written beside and renamed into place, so a concurrent start never sees half a folder.
    let partial = parent.join(format!(
        "beebeta-templates-{hash}.{}.partial",
        std::process::id()
    ));
    for name in &names {
        let file = Templates::get(name).ok_or_else(|| format!("embedded template {name}"))?;
        let path = partial.join(name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(fail)?;
        }
        std::fs::write(&path, &file.data).map_err(fail)?;
    }
    match std::fs::rename(&partial, &dir) {
        Ok(()) => Ok(dir),
        // Another process was first: use its copy.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(dir)
        }
        Err(e) => Err(fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of a source folder, relative path → bytes.
    fn files_of(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn the_binary_carries_every_template_and_static_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let templates: std::collections::BTreeMap<String, Vec<u8>> = Templates::iter()
            .map(|n| (n.to_string(), Templates::get(&n).unwrap().data.into_owned()))
            .collect();
        assert_eq!(templates, files_of(&root.join("templates")));
        let statics: std::collections::BTreeMap<String, Vec<u8>> = StaticFiles::iter()
            .map(|n| {
                (
                    n.to_string(),
                    StaticFiles::get(&n).unwrap().data.into_owned(),
                )
            })
            .collect();
        assert_eq!(statics, files_of(&root.join("static")));
    }

    #[test]
    fn templates_are_written_once_per_content() {
        let parent = tempfile::tempdir().unwrap();
        let a = extract_templates(parent.path()).unwrap();
        let b = extract_templates(parent.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            files_of(&a),
            files_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
        );
        assert_eq!(
            std::fs::read_dir(parent.path()).unwrap().count(),
            1,
            "no partial folder is left"
        );
        assert_eq!(
            template_dir(Some("/srv/theme")).unwrap(),
            PathBuf::from("/srv/theme")
        );
    }
}
