//! Property tests (proptest) on the parsers of untrusted input outside the domain crate: CSRF
//! tokens, sealed secrets, two-factor codes, client-address resolution, image decoding, and the
//! forms, JSON bodies and cookies the app decodes (through a real app on SQLite). Arbitrary input
//! never panics (never a 5xx), and the parsers stay within their memory bound, measured by a
//! counting allocator around each call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, OnceLock};

use beebeta::auth::Keys;
use beebeta::auth::client_ip::{ClientAddressing, TrustedProxies};
use beebeta::auth::totp;
use beebeta::media::image::{self, ImageLimits};
use proptest::prelude::*;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::blocking::Client;

/// The system allocator, counting the bytes each thread has in use and their peak: a
/// measurement sees only its own thread's allocations, not the app's background threads.
struct Counting;

thread_local! {
    static IN_USE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: a thread's last frees come after its thread-locals are gone.
    let _ = IN_USE.try_with(|in_use| {
        let now = in_use.get() + delta;
        in_use.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call goes to the system allocator unchanged; only thread-local counters (no
// allocation of their own) are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One property at a time: the app for the request properties is shared.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` on this thread; its result and the most bytes it had allocated at once (beyond what
/// this thread had in use before).
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = IN_USE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, usize::try_from(peak - base).unwrap_or(0))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => ".{0,80}",
        2 => "[ -~]{0,120}",
        1 => "\\PC{0,4000}",
    ]
}

fn addressing(header: &str) -> ClientAddressing {
    let proxies = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
    ClientAddressing::new(proxies, header).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn csrf_tokens(binding in text(), token in text()) {
        let _g = serial();
        let keys = Keys::new(b"property tests");
        let (ok, peak) = peak_of(|| keys.verify_csrf(&binding, &token));
        prop_assert!(!ok, "an arbitrary string is no token");
        prop_assert!(peak <= 2 * token.len() + 16 * 1024, "{peak} bytes for {} in", token.len());
        let good = keys.csrf_token(&binding);
        prop_assert!(keys.verify_csrf(&binding, &good));
    }

    #[test]
    fn sealed_secrets_and_codes(sealed in text(), code in text(), user in any::<i64>()) {
        let _g = serial();
        let keys = Keys::new(b"property tests");
        let (opened, peak) = peak_of(|| keys.open(&format!("totp:{user}"), &sealed));
        prop_assert!(opened.is_none());
        prop_assert!(peak <= 2 * sealed.len() + 16 * 1024, "{peak}");
        let secret = totp::TotpSecret::generate();
        let (_, peak) = peak_of(|| secret.check(&code, 1_800_000_000));
        prop_assert!(peak <= 2 * code.len() + 16 * 1024, "{peak}");
        if let Some(n) = totp::normalise_recovery_code(&code) {
            prop_assert_eq!(n.len(), 10);
        }
    }

    #[test]
    fn client_addresses(peer in any::<[u8; 4]>(), header in text(), chain in proptest::collection::vec(any::<[u8; 4]>(), 0..6)) {
        let _g = serial();
        let a = addressing("X-Forwarded-For");
        let peer = IpAddr::from(peer);
        let joined: String = chain.iter().map(|o| IpAddr::from(*o).to_string()).collect::<Vec<_>>().join(", ");
        for value in [header.as_str(), joined.as_str()] {
            let (got, peak) = peak_of(|| a.resolve(Some(peer), Some(value)));
            prop_assert!(peak <= 64 * value.len() + 16 * 1024, "{peak}");
            let got = got.expect("a peer always resolves");
            let trusted = IpAddr::from([127, 0, 0, 1]) == peer || matches!(peer, IpAddr::V4(v) if v.octets()[0] == 10);
            if !trusted {
                prop_assert_eq!(got, peer, "an untrusted peer's header is ignored");
            } else {
                prop_assert!(got == peer || value.contains(&got.to_string()), "the client came from the header");
            }
        }
        prop_assert_eq!(addressing("X-Real-IP").resolve(None, Some(&header)), None);
    }
}

/// Small images of each format the site takes, to mutate.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        use ::image::ImageFormat;
        vec![
            image::samples::encoded_photo(64, 48, ImageFormat::Png),
            image::samples::encoded_photo(64, 48, ImageFormat::Jpeg),
            image::samples::encoded_photo(64, 48, ImageFormat::Gif),
            image::samples::encoded_photo(64, 48, ImageFormat::WebP),
            image::samples::encoded_graphic(40, 40),
            image::samples::png_declaring(60_000, 60_000),
        ]
    })
}

const LIMITS: ImageLimits = ImageLimits {
    max_bytes: 1024 * 1024,
    max_pixels: 1_000_000,
    max_side: 2_000,
    max_alloc: 16 * 1024 * 1024,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Corrupted, truncated and lying images: decoded or refused, never a panic, and never more
    /// memory than the decoder limit allows.
    #[test]
    fn image_decoding(
        seed in 0usize..6,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        junk in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let _g = serial();
        let mut bytes = seeds()[seed].clone();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Some(at) = cut {
            bytes.truncate(at.index(bytes.len() + 1));
        }
        bytes.extend(junk);
        let (_, peak) = peak_of(|| image::decode(&bytes, &LIMITS));
        prop_assert!(
            peak as u64 <= LIMITS.max_alloc + 4 * 1024 * 1024,
            "{peak} bytes decoding {} bytes", bytes.len()
        );
    }

    /// Any bytes at all, behind each format's signature (so the decoders see them).
    #[test]
    fn image_bytes(magic in 0usize..5, rest in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _g = serial();
        let signatures: [&[u8]; 5] = [
            b"\x89PNG\r\n\x1a\n",
            b"\xff\xd8\xff\xe0",
            b"GIF89a",
            b"RIFF\x00\x10\x00\x00WEBPVP8 ",
            b"",
        ];
        let mut bytes = signatures[magic].to_vec();
        bytes.extend(rest);
        let (_, peak) = peak_of(|| image::decode(&bytes, &LIMITS));
        prop_assert!(peak as u64 <= LIMITS.max_alloc, "{peak}");
    }
}

/// One app on SQLite for the request properties, with a question (id 1) and a visitor's CSRF
/// token for the forms; `f` runs with it.
fn with_app<R>(f: impl FnOnce(&Client, &str) -> R) -> R {
    static APP: OnceLock<Mutex<(Client, String)>> = OnceLock::new();
    let app = APP.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("beebeta-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let figment = rocket::figment::Figment::new()
            .merge(("database_url", format!("sqlite://{}", dir.join("props.db").display())))
            .merge(("secret_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="))
            .merge(("secret_file", dir.join("secret").display().to_string()))
            .merge(("seed_demo", true))
            .merge(("hot_refresh_secs", 0))
            .merge(("report_refresh_secs", 0))
            .merge(("public_url", "http://beebeta.test"))
            .merge(("log_filter", "error"))
            .merge(("limits", "off"))
            .merge(("media", "memory://"))
            .merge(("smtp_url", "memory"))
            .merge(("port", 0));
        let settings = beebeta::config::Settings::from_figment(figment).unwrap();
        let client = Client::tracked(beebeta::app::build(settings).unwrap()).unwrap();
        let page = client.get("/signup").dispatch().into_string().unwrap();
        let i = page.find("name=\"csrf_token\" value=\"").unwrap() + 25;
        let csrf = page[i..i + page[i..].find('"').unwrap()].to_string();
        Mutex::new((client, csrf))
    });
    let guard = app.lock().unwrap_or_else(|p| p.into_inner());
    f(&guard.0, &guard.1)
}

fn urlencoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Form-ish bodies: arbitrary bytes, or fields with arbitrary names and values.
fn form_body() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,300}",
        proptest::collection::vec(("[a-z_\\[\\].]{0,12}", text()), 0..12).prop_map(|fields| {
            fields
                .iter()
                .map(|(k, v)| format!("{}={}", urlencoded(k), urlencoded(v)))
                .collect::<Vec<_>>()
                .join("&")
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every form a visitor can post, with a valid CSRF token and anything else: a page or a
    /// refusal, never a server error.
    #[test]
    fn forms(body in form_body()) {
        let _g = serial();
        with_app(|client, csrf| {
        for path in [
            "/signup", "/login", "/login/2fa", "/reset", "/reset/confirm", "/signup/confirm",
            "/confirm", "/q/1/vote", "/q/1/withdraw", "/ask", "/settings/tokens", "/auth/finish",
        ] {
            let body = format!("csrf_token={}&{body}", urlencoded(csrf));
            let r = client
                .post(path)
                .header(ContentType::Form)
                .header(rocket::http::Header::new("Origin", "http://beebeta.test"))
                .body(body)
                .dispatch();
            prop_assert!(r.status().code < 500, "{path}: {}", r.status());
        }
        Ok(())
        })?;
    }

    /// JSON bodies of the API: a JSON error, never a server error.
    #[test]
    fn json_bodies(body in prop_oneof!["\\PC{0,300}", text().prop_map(|t| format!("{{\"choices\":[{t}],\"title\":\"{t}\"}}"))]) {
        let _g = serial();
        with_app(|client, _| {
        for (method, path) in [
            (rocket::http::Method::Put, "/api/v1/questions/1/vote"),
            (rocket::http::Method::Post, "/api/v1/questions"),
            (rocket::http::Method::Delete, "/api/v1/questions/1/vote"),
        ] {
            let r = client.req(method, path).header(ContentType::JSON).body(&body).dispatch();
            prop_assert!(r.status().code < 500, "{path}: {}", r.status());
            prop_assert!(r.status() != Status::Ok || method == rocket::http::Method::Delete || body.contains("choices"));
        }
        Ok(())
        })?;
    }

    /// Forged cookies (voter, session, pending login, flash): read as absent, never an error.
    #[test]
    fn cookies(value in "[ -~]{0,200}") {
        let _g = serial();
        with_app(|client, _| {
        for name in ["bb_voter", "bb_session", "bb_2fa", "bb_oauth", "bb_oauth_new", "_flash"] {
            let r = client.get("/q/1").cookie(Cookie::new(name, value.clone())).dispatch();
            prop_assert!(r.status().code < 500, "{name}: {}", r.status());
            let r = client.get("/login/2fa").cookie(Cookie::new(name, value.clone())).dispatch();
            prop_assert!(r.status().code < 500, "{name}: {}", r.status());
        }
        Ok(())
        })?;
    }
}
