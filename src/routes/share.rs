//! Sharing a question: its QR code at `/q/<id>/qr.svg`, and the share links of the question
//! page's share box ([`share_links`]): plain links to each network's own share page, no script of
//! theirs on ours.

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes};

use crate::error::{AppError, AppResult};
use crate::routes::params::Qid;
use crate::services::reading;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![qr]
}

/// How long browsers and shared caches keep a QR code. It only changes with the question's slug
/// (its title can be edited until the first vote), and an old slug still leads to the question.
pub const QR_MAX_AGE_SECS: u32 = 86_400;

/// A QR code image: SVG, kept by caches for [`QR_MAX_AGE_SECS`].
pub struct QrSvg(String);

impl<'r> Responder<'r, 'static> for QrSvg {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .header(ContentType::SVG)
            .header(Header::new(
                "Cache-Control",
                format!("public, max-age={QR_MAX_AGE_SECS}"),
            ))
            .sized_body(self.0.len(), std::io::Cursor::new(self.0))
            .ok()
    }
}

/// The QR code of a question's canonical URL, as SVG; 404 for a hidden, deleted or unknown one.
#[get("/q/<id>/qr.svg", rank = 1)]
pub async fn qr(app: &AppState, id: Qid) -> AppResult<QrSvg> {
    let path = reading::question_path(&app.db, &app.cache, id.get()).await?;
    let url = canonical_url(&app.config.site.public_url, &path);
    let svg = tokio::task::spawn_blocking(move || qr_svg(&url))
        .await
        .map_err(|e| AppError::Internal(format!("QR rendering failed: {e}")))?;
    Ok(QrSvg(svg))
}

/// The absolute URL of a path on this site.
pub fn canonical_url(public_url: &str, path: &str) -> String {
    format!("{}{path}", public_url.trim_end_matches('/'))
}

/// `text` as a QR code in a standalone SVG document (quiet zone included, at least 256 px).
pub fn qr_svg(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .quiet_zone(true)
                .build()
        })
        // A URL of a few hundred bytes always fits (a QR code holds up to 2,953).
        .unwrap_or_default()
}

/// One link of the share box.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShareLink {
    /// What the link says.
    pub name: &'static str,
    /// Where it goes, every parameter percent-encoded.
    pub href: String,
    /// Opens in a new tab (a network's page; not the mail client).
    pub new_tab: bool,
}

/// Links that share `url` (with `title`) on the common networks and by email. Mastodon is left
/// out: its share page is on each reader's own server, and the "pick your server" sites are
/// somebody's service in between.
pub fn share_links(url: &str, title: &str) -> Vec<ShareLink> {
    let u = encode(url);
    let t = encode(title);
    let both = encode(&format!("{title} {url}"));
    let link = |name, href: String| ShareLink {
        name,
        href,
        new_tab: true,
    };
    vec![
        link("X", format!("https://x.com/intent/tweet?url={u}&text={t}")),
        link(
            "Facebook",
            format!("https://www.facebook.com/sharer/sharer.php?u={u}"),
        ),
        link(
            "Reddit",
            format!("https://www.reddit.com/submit?url={u}&title={t}"),
        ),
        link(
            "LinkedIn",
            format!("https://www.linkedin.com/sharing/share-offsite/?url={u}"),
        ),
        link("WhatsApp", format!("https://wa.me/?text={both}")),
        link(
            "Telegram",
            format!("https://t.me/share/url?url={u}&text={t}"),
        ),
        link(
            "Bluesky",
            format!("https://bsky.app/intent/compose?text={both}"),
        ),
        ShareLink {
            name: "Email",
            href: format!("mailto:?subject={t}&body={u}"),
            new_tab: false,
        },
    ]
}

/// Percent-encodes everything but RFC 3986's unreserved characters (so a space is `%20`, which
/// `mailto:` needs, not `+`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode("Tea & coffee?"), "Tea%20%26%20coffee%3F");
        assert_eq!(
            encode("https://b.example/q/1/x?y=1#z"),
            "https%3A%2F%2Fb.example%2Fq%2F1%2Fx%3Fy%3D1%23z"
        );
        assert_eq!(encode("Café +1"), "Caf%C3%A9%20%2B1");
    }

    #[test]
    fn links_encode_url_and_title() {
        let links = share_links("https://b.example/q/3/tea", "Tea & \"coffee\"?");
        let href = |name: &str| {
            links
                .iter()
                .find(|l| l.name == name)
                .map(|l| l.href.clone())
                .unwrap()
        };
        assert_eq!(
            href("X"),
            "https://x.com/intent/tweet?url=https%3A%2F%2Fb.example%2Fq%2F3%2Ftea&text=Tea%20%26%20%22coffee%22%3F"
        );
        assert_eq!(
            href("Email"),
            "mailto:?subject=Tea%20%26%20%22coffee%22%3F&body=https%3A%2F%2Fb.example%2Fq%2F3%2Ftea"
        );
        assert_eq!(
            href("WhatsApp"),
            "https://wa.me/?text=Tea%20%26%20%22coffee%22%3F%20https%3A%2F%2Fb.example%2Fq%2F3%2Ftea"
        );
        assert!(links.iter().all(|l| l.new_tab == (l.name != "Email")));
        assert_eq!(links.len(), 8);
    }

    #[test]
    fn qr_is_an_svg_document() {
        let svg = qr_svg("https://b.example/q/3/tea");
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
