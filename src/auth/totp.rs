//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, as authenticator
//! apps expect), their enrolment QR code, and single-use recovery codes. Secrets are sealed with
//! the site key before they reach the database (`Keys::seal`); a code's step is accepted once
//! (the caller stores the last accepted step).

use sha2::{Digest, Sha256};
use totp_rs::{Builder, Totp};

use crate::auth::Keys;

/// The issuer authenticator apps show.
pub const ISSUER: &str = "Beebeta";
/// How many recovery codes an enrolment makes.
pub const RECOVERY_CODES: usize = 10;
/// Characters of recovery codes: no 0/o, 1/l/i.
const CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A TOTP secret (20 random bytes, the RFC's recommended length for SHA-1).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> TotpSecret {
        TotpSecret(rand::random::<[u8; 20]>().to_vec())
    }

    /// The secret as stored: sealed for user `user_id`.
    pub fn seal(&self, keys: &Keys, user_id: i64) -> String {
        keys.seal(&context(user_id), &self.0)
    }

    /// The secret stored for user `user_id`, if it opens with this key.
    pub fn open(keys: &Keys, user_id: i64, sealed: &str) -> Option<TotpSecret> {
        keys.open(&context(user_id), sealed)
            .filter(|s| s.len() >= 16)
            .map(TotpSecret)
    }

    fn totp(&self, account: &str) -> Option<Totp> {
        // Authenticator apps show `issuer:account`; a `:` in the account would split it.
        let account = account.replace(':', "_");
        Builder::new()
            .with_secret(self.0.clone())
            .with_account_name(account)
            .with_issuer(Some(ISSUER))
            .build()
            .ok()
    }

    /// The `otpauth://totp/...` URI an authenticator app reads (from the QR code).
    pub fn uri(&self, account: &str) -> String {
        self.totp(account)
            .and_then(|t| t.to_url().ok())
            .unwrap_or_default()
    }

    /// The secret in base32, for typing it into an app by hand.
    pub fn base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.0)
    }

    /// The 30-second step a code is valid for at `unix_secs` (one step of clock skew either
    /// way), if it is valid.
    pub fn check(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp("x")?.check(&code, unix_secs)
    }

    /// The code for `unix_secs` (tests and the command line).
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp("x")
            .map(|t| t.generate(unix_secs).to_string())
            .unwrap_or_default()
    }
}

fn context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

/// The QR code of `uri` as an SVG element to inline in a page.
pub fn qr_svg(uri: &str) -> String {
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    // Without the XML declaration: the element goes inside an HTML page.
    match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    }
}

/// New recovery codes (`xxxxx-xxxxx`, about 49 bits each), shown once.
pub fn recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = (0..10)
                .map(|_| CODE_ALPHABET[rand::random::<usize>() % CODE_ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed, normalised (case, spaces and dashes ignored), if it looks like one.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == 10 && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The stored form of a (normalised) recovery code: SHA-256, hex. The codes are random, so no
/// salt or slow hash is needed (as for session tokens).
pub fn recovery_code_hash(normalised: &str) -> String {
    Sha256::digest(normalised.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238 appendix B, SHA-1: the secret "12345678901234567890", T = 59 s.
        let s = TotpSecret(b"12345678901234567890".to_vec());
        assert_eq!(s.code_at(59), "287082");
        assert_eq!(s.check("287082", 59), Some(1));
        assert_eq!(s.check("287 082", 59), Some(1), "spaces are ignored");
        assert_eq!(s.check("287082", 59 + 30), Some(1), "one step of skew");
        assert_eq!(s.check("287082", 59 + 90), None, "not three steps later");
        for bad in ["", "28708", "2870822", "abcdef", "２８７０８２"] {
            assert_eq!(s.check(bad, 59), None, "{bad:?}");
        }
    }

    #[test]
    fn uris_are_what_authenticator_apps_read() {
        let s = TotpSecret(b"12345678901234567890".to_vec());
        let uri = s.uri("alice");
        assert_eq!(
            uri,
            "otpauth://totp/Beebeta:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Beebeta"
        );
        assert!(s.uri("a:b").contains("Beebeta:a_b"));
        assert!(qr_svg(&uri).starts_with("<svg"));
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn secrets_are_sealed_per_user() {
        let keys = Keys::new(b"secret");
        let s = TotpSecret::generate();
        let sealed = s.seal(&keys, 7);
        assert_eq!(TotpSecret::open(&keys, 7, &sealed), Some(s.clone()));
        assert_eq!(TotpSecret::open(&keys, 8, &sealed), None);
        assert!(!sealed.contains(&s.base32()));
        assert_eq!(format!("{s:?}"), "TotpSecret(***)");
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalise() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        let c = &codes[0];
        assert_eq!(c.len(), 11);
        let n = normalise_recovery_code(c).unwrap();
        assert_eq!(
            normalise_recovery_code(&c.to_uppercase()).as_deref(),
            Some(n.as_str())
        );
        assert_eq!(
            normalise_recovery_code(&format!(" {} ", n)).as_deref(),
            Some(n.as_str())
        );
        for bad in ["", "123456", "aaaaa-aaaa", "00000-00000", "aaaaa-aaaaaa"] {
            assert_eq!(normalise_recovery_code(bad), None, "{bad:?}");
        }
        assert_eq!(recovery_code_hash(&n).len(), 64);
    }
}
