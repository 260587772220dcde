//! Static assets under content-hashed names (`css/site.css` → `css/site.3f2a9c1b7e.css`).
//!
//! The files come from the binary (`embedded::StaticFiles`) or from `static_dir`, read once at
//! start-up. A hashed name changes whenever the file does, so hashed URLs are cached for a year as
//! `immutable` by browsers and CDNs; small files are kept in memory together with a gzip variant
//! made at start-up, so serving them does no disk I/O and no compression. Unhashed paths are
//! served too, with a short cache. Files changed on disk are picked up at the next start.
//! [`Assets::export`] writes the hashed files (and their gzip variants) into a folder, for a
//! proxy or CDN to serve them (`beebeta assets export DIR`).
//!
//! A hashed-looking name whose hash is not the current one answers 404 rather than redirecting to
//! the current file: an old server in a rolling deploy would otherwise answer a *newer* hash with
//! its older file, and a CDN that caches that answer keeps serving stale content under the new
//! URL. The 404 is not cacheable (see `app::SecurityHeaders`), so a retry reaches a server that
//! has the file.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocket::fs::NamedFile;
use rocket::http::uri::Segments;
use rocket::http::uri::fmt::Path as UriPath;
use rocket::http::{ContentType, Method, Status};
use rocket::response::Responder;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request, Response};
use rocket_dyn_templates::tera;
use sha2::{Digest, Sha256};

use crate::compress;
use crate::embedded::{StaticFiles, StaticSource};

/// Files up to this size are kept in memory; larger ones are hashed and read from disk per request.
const MAX_IN_MEMORY: u64 = 1024 * 1024;
/// Hex characters of SHA-256 in a hashed name.
const HASH_LEN: usize = 10;
/// `Cache-Control` of a hashed URL: its content never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of an unhashed URL: its content changes with a deploy.
pub const SHORT: &str = "public, max-age=300";
/// Rank of the static route.
const RANK: isize = 10;

/// The manifest of static assets, built once at start-up.
#[derive(Debug)]
pub struct Assets {
    base_url: String,
    /// Logical path (`css/site.css`) → hashed path (`css/site.3f2a9c1b7e.css`).
    names: HashMap<String, String>,
    /// Hashed path → the file.
    files: HashMap<String, Asset>,
}

#[derive(Debug)]
struct Asset {
    content_type: ContentType,
    body: Stored,
}

#[derive(Debug)]
enum Stored {
    Memory {
        bytes: Arc<[u8]>,
        /// Present when the type is compressible and gzip is smaller.
        gzip: Option<Arc<[u8]>>,
    },
    Disk(PathBuf),
}

impl Assets {
    /// Reads every file of `source` (hidden files are skipped) and checks `base_url`: a path
    /// such as `/static`, or an absolute `http(s)://` URL of a CDN.
    pub fn load(source: &StaticSource, base_url: &str) -> Result<Assets, String> {
        let base_url = check_base_url(base_url)?;
        let mut assets = Assets {
            base_url,
            names: HashMap::new(),
            files: HashMap::new(),
        };
        match source {
            StaticSource::Embedded => {
                for logical in StaticFiles::iter() {
                    let hidden = logical.split('/').any(|s| s.starts_with('.'));
                    let Some(file) = StaticFiles::get(&logical).filter(|_| !hidden) else {
                        continue;
                    };
                    let hash = hex(&Sha256::digest(&file.data));
                    assets.add(
                        logical.into_owned(),
                        &hash,
                        Some(file.data.into_owned()),
                        None,
                    );
                }
            }
            StaticSource::Dir(dir) => {
                let mut found = Vec::new();
                walk(dir, "", &mut found).map_err(|e| {
                    format!("cannot read the static directory {}: {e}", dir.display())
                })?;
                for (logical, path) in found {
                    let (hash, body) = read_and_hash(&path)
                        .map_err(|e| format!("cannot read static file {}: {e}", path.display()))?;
                    assets.add(logical, &hash, body, Some(path));
                }
            }
        }
        Ok(assets)
    }

    /// Adds a file: its bytes when kept in memory, else its path on disk.
    fn add(&mut self, logical: String, hash: &str, bytes: Option<Vec<u8>>, path: Option<PathBuf>) {
        let hashed = hashed_name(&logical, hash);
        let content_type = Path::new(&logical)
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ContentType::from_extension)
            .unwrap_or(ContentType::Binary);
        let body = match (bytes, path) {
            (Some(bytes), _) => {
                let gzip = (compress::is_compressible(&content_type)
                    && bytes.len() >= compress::MIN_SIZE)
                    .then(|| compress::gzip(&bytes, 9))
                    .filter(|z| z.len() < bytes.len())
                    .map(Arc::from);
                Stored::Memory {
                    bytes: Arc::from(bytes),
                    gzip,
                }
            }
            (None, Some(path)) => Stored::Disk(path),
            (None, None) => return,
        };
        self.names.insert(logical, hashed.clone());
        self.files.insert(hashed, Asset { content_type, body });
    }

    /// Writes every file under its hashed name into `dir` (plus `<name>.gz` where a gzip variant
    /// is smaller, for a proxy's `gzip_static`): the names the pages link to. Returns how many
    /// files were written.
    pub fn export(&self, dir: &Path) -> Result<usize, String> {
        let fail = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
        let mut written = 0;
        for (hashed, asset) in &self.files {
            let target = dir.join(hashed);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
            }
            match &asset.body {
                Stored::Memory { bytes, gzip } => {
                    std::fs::write(&target, bytes).map_err(|e| fail(&target, e))?;
                    if let Some(z) = gzip {
                        let gz = dir.join(format!("{hashed}.gz"));
                        std::fs::write(&gz, z).map_err(|e| fail(&gz, e))?;
                        written += 1;
                    }
                }
                Stored::Disk(path) => {
                    std::fs::copy(path, &target).map_err(|e| fail(&target, e))?;
                }
            }
            written += 1;
        }
        Ok(written)
    }

    /// The hashed path of a logical one (`css/site.css` → `css/site.3f2a9c1b7e.css`).
    pub fn hashed(&self, logical: &str) -> Option<&str> {
        self.names
            .get(logical.trim_start_matches('/'))
            .map(String::as_str)
    }

    /// The public URL of an asset: `<static_base_url>/<hashed path>`. An unknown path is logged
    /// and gets its unhashed URL, so a page still renders (and the file server may still find it).
    pub fn url(&self, logical: &str) -> String {
        let logical = logical.trim_start_matches('/');
        let path = self.hashed(logical).unwrap_or_else(|| {
            tracing::warn!(
                path = logical,
                "asset() names a file not in the static directory"
            );
            logical
        });
        format!("{}/{}", self.base_url, encode_path(path))
    }

    /// The origin of an absolute static base URL (a CDN), which the CSP must allow.
    pub fn external_origin(&self) -> Option<String> {
        let url = url::Url::parse(&self.base_url).ok()?;
        Some(url.origin().ascii_serialization())
    }

    /// The Tera function `asset(path="css/site.css")`.
    pub fn tera_function(self: &Arc<Self>) -> impl tera::Function + 'static {
        AssetUrl(Arc::clone(self))
    }

    /// The route to mount at `/static`: hashed files (cached forever), then unhashed ones
    /// (cached briefly).
    pub fn routes(self: &Arc<Self>) -> Vec<Route> {
        let mut route = Route::ranked(RANK, Method::Get, "/<path..>", Server(Arc::clone(self)));
        route.name = Some("static assets".into());
        vec![route]
    }
}

/// A base URL is written into pages unescaped (see [`AssetUrl`]), so only plain URL characters
/// are accepted.
fn check_base_url(raw: &str) -> Result<String, String> {
    let base = raw.trim().trim_end_matches('/');
    let bad = || {
        format!(
            "invalid static_base_url {raw:?}: use a path such as /static or an absolute \
             https:// URL without query or fragment"
        )
    };
    let plain = base.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'%')
    });
    if !plain {
        return Err(bad());
    }
    if base.is_empty() || (base.starts_with('/') && !base.starts_with("//")) {
        return Ok(base.to_string());
    }
    match url::Url::parse(base) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(base.to_string())
        }
        _ => Err(bad()),
    }
}

/// Collects `(logical path, file path)` of every non-hidden file under `dir`.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            tracing::warn!(path = %entry.path().display(), "static file name is not UTF-8; skipped");
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let logical = format!("{prefix}{name}");
        // `metadata` follows symlinks to files; symlinked directories are followed too, which is
        // what the file server does.
        let meta = std::fs::metadata(entry.path())?;
        if meta.is_dir() {
            walk(&entry.path(), &format!("{logical}/"), out)?;
        } else if meta.is_file() {
            out.push((logical, entry.path()));
        }
    }
    Ok(())
}

/// The content hash, and the bytes when the file is small enough to keep.
fn read_and_hash(path: &Path) -> std::io::Result<(String, Option<Vec<u8>>)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    if file.metadata()?.len() <= MAX_IN_MEMORY {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        hasher.update(&bytes);
        return Ok((hex(&hasher.finalize()), Some(bytes)));
    }
    std::io::copy(&mut file, &mut hasher)?;
    Ok((hex(&hasher.finalize()), None))
}

fn hex(digest: &[u8]) -> String {
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(HASH_LEN)
        .map(|n| char::from_digit(n.into(), 16).expect("a nibble"))
        .collect()
}

/// `css/site.css` + hash → `css/site.<hash>.css`; `LICENSE` + hash → `LICENSE.<hash>`.
fn hashed_name(logical: &str, hash: &str) -> String {
    let (dir, file) = match logical.rsplit_once('/') {
        Some((d, f)) => (format!("{d}/"), f),
        None => (String::new(), logical),
    };
    match file.rfind('.') {
        Some(i) if i > 0 => format!("{dir}{}.{hash}{}", &file[..i], &file[i..]),
        _ => format!("{dir}{file}.{hash}"),
    }
}

/// Percent-encodes everything but unreserved characters and `/`, so the URL is safe in HTML.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `asset(path="...")` in templates. Its output is marked safe: the base URL is checked at
/// start-up and the path is percent-encoded, so it holds no character that needs escaping (Tera
/// would otherwise write `/` as `&#x2F;`).
struct AssetUrl(Arc<Assets>);

impl tera::Function for AssetUrl {
    fn call(&self, args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
        let path = args
            .get("path")
            .and_then(tera::Value::as_str)
            .ok_or_else(|| tera::Error::msg("asset() takes path=\"css/site.css\""))?;
        Ok(tera::Value::String(self.0.url(path)))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// Serves hashed paths with the immutable cache, unhashed ones with the short one; anything else
/// (a hash that is not current) is a 404.
#[derive(Clone)]
struct Server(Arc<Assets>);

#[rocket::async_trait]
impl Handler for Server {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let Ok(segments) = req.segments::<Segments<'_, UriPath>>(0..);
        let path = segments.collect::<Vec<_>>().join("/");
        let (asset, cache) = match self.0.files.get(&path) {
            Some(asset) => (asset, IMMUTABLE),
            None => match self.0.names.get(&path).and_then(|h| self.0.files.get(h)) {
                Some(asset) => (asset, SHORT),
                None => return Outcome::forward(data, Status::NotFound),
            },
        };
        let mut resp = match &asset.body {
            Stored::Memory { bytes, gzip } => {
                let mut resp = Response::new();
                match gzip {
                    Some(z) if compress::accepts_gzip(req.headers()) => {
                        resp.set_raw_header("Content-Encoding", "gzip");
                        resp.set_sized_body(z.len(), Cursor::new(Arc::clone(z)));
                    }
                    _ => resp.set_sized_body(bytes.len(), Cursor::new(Arc::clone(bytes))),
                }
                if gzip.is_some() {
                    resp.set_raw_header("Vary", "Accept-Encoding");
                }
                resp
            }
            Stored::Disk(path) => match NamedFile::open(path).await.respond_to(req) {
                Ok(resp) => resp,
                Err(status) => return Outcome::Error(status),
            },
        };
        resp.set_header(asset.content_type.clone());
        resp.set_raw_header("Cache-Control", cache);
        Outcome::Success(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert_eq!(
            hashed_name("css/site.css", "0123456789"),
            "css/site.0123456789.css"
        );
        assert_eq!(
            hashed_name("a/b/x.min.js", "0123456789"),
            "a/b/x.min.0123456789.js"
        );
        assert_eq!(hashed_name("LICENSE", "0123456789"), "LICENSE.0123456789");
        assert_eq!(hex(&[0xab, 0xcd, 0xef, 0x01, 0x23, 0x45]), "abcdef0123");
    }

    #[test]
    fn base_urls() {
        assert_eq!(check_base_url("/static/").unwrap(), "/static");
        assert_eq!(check_base_url("/").unwrap(), "");
        assert_eq!(
            check_base_url("https://cdn.example.com/static").unwrap(),
            "https://cdn.example.com/static"
        );
        for bad in [
            "static",
            "//cdn.example.com/static",
            "ftp://cdn.example.com",
            "https://cdn.example.com/s?x=1",
            "/st\"atic",
            "/static<script>",
            "javascript:alert(1)",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_encoded() {
        assert_eq!(encode_path("img/a b\"<.png"), "img/a%20b%22%3C.png");
        assert_eq!(
            encode_path("css/site.0123456789.css"),
            "css/site.0123456789.css"
        );
    }

    #[test]
    fn manifest_of_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("css")).unwrap();
        std::fs::write(dir.path().join("css/a.css"), "body{color:red}".repeat(200)).unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        let source = StaticSource::Dir(dir.path().to_path_buf());
        let assets = Assets::load(&source, "https://cdn.example.com/s/").unwrap();
        let hashed = assets.hashed("css/a.css").unwrap().to_string();
        assert!(hashed.starts_with("css/a.") && hashed.ends_with(".css"));
        assert_eq!(hashed.len(), "css/a..css".len() + HASH_LEN);
        assert_eq!(
            assets.url("css/a.css"),
            format!("https://cdn.example.com/s/{hashed}")
        );
        assert_eq!(assets.url("/css/a.css"), assets.url("css/a.css"));
        assert_eq!(assets.url("nope.js"), "https://cdn.example.com/s/nope.js");
        assert!(assets.hashed(".hidden").is_none());
        assert_eq!(
            assets.external_origin().as_deref(),
            Some("https://cdn.example.com")
        );
        match &assets.files[&hashed].body {
            Stored::Memory { gzip, .. } => assert!(gzip.is_some(), "repetitive CSS compresses"),
            Stored::Disk(_) => panic!("small files stay in memory"),
        }
        let missing = StaticSource::Dir(dir.path().join("missing"));
        assert!(Assets::load(&missing, "/static").is_err());
        let out = tempfile::tempdir().unwrap();
        assert_eq!(
            assets.export(out.path()).unwrap(),
            2,
            "the file and its gzip variant"
        );
        assert_eq!(
            std::fs::read(out.path().join(&hashed)).unwrap(),
            "body{color:red}".repeat(200).into_bytes()
        );
        assert!(out.path().join(format!("{hashed}.gz")).is_file());
    }

    #[test]
    fn the_embedded_files_are_served_as_on_disk() {
        let embedded = Assets::load(&StaticSource::Embedded, "/static").unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let on_disk = Assets::load(&StaticSource::Dir(source), "/static").unwrap();
        assert_eq!(embedded.names, on_disk.names, "same files, same hashes");
        assert!(embedded.hashed("css/site.css").is_some());
    }
}
