//! Keys derived from the configured secret: CSRF tokens, network hashes, and the sealing of
//! secrets kept in the database (two-factor secrets: AES-256-GCM).

use std::net::IpAddr;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Per-purpose keys, derived once from the secret key.
#[derive(Clone)]
pub struct Keys {
    csrf: Vec<u8>,
    network: Vec<u8>,
    seal: Vec<u8>,
}

fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn sign(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

impl Keys {
    /// Derives the keys from the secret key's bytes.
    pub fn new(secret: &[u8]) -> Keys {
        Keys {
            csrf: derive(secret, "beebeta/csrf/v1"),
            network: derive(secret, "beebeta/network/v1"),
            seal: derive(secret, "beebeta/seal/v1"),
        }
    }

    /// A CSRF token bound to a voter cookie or a session (`binding`): the binding's HMAC, masked
    /// with 32 fresh random bytes (`mask || mask XOR hmac`, as Django does), so every response
    /// carries different bytes and compression cannot reveal the secret part (BREACH). Every
    /// masked form of it is valid.
    pub fn csrf_token(&self, binding: &str) -> String {
        let secret = sign(&self.csrf, binding.as_bytes());
        let mask: [u8; 32] = rand::random();
        let mut token = Vec::with_capacity(64);
        token.extend_from_slice(&mask);
        token.extend(secret.iter().zip(mask).map(|(s, m)| s ^ m));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    }

    /// Checks a CSRF token (any masked form of the binding's) in constant time.
    pub fn verify_csrf(&self, binding: &str, token: &str) -> bool {
        let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        if raw.len() != 64 {
            return false;
        }
        let (mask, masked) = raw.split_at(32);
        let unmasked: Vec<u8> = masked.iter().zip(mask).map(|(c, m)| c ^ m).collect();
        let expected = sign(&self.csrf, binding.as_bytes());
        bool::from(expected.ct_eq(&unmasked))
    }

    /// Encrypts a secret for the database (`v1.` + base64 of a fresh 96-bit nonce and the
    /// AES-256-GCM ciphertext); `context` (e.g. `totp:<user id>`) is authenticated with it, so a
    /// sealed value copied to another row does not open.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.seal).expect("a 32-byte key");
        let nonce: [u8; 12] = rand::random();
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encrypts any message of this size");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!(
            "v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// Decrypts what [`Keys::seal`] made for `context`; `None` if it was made with another key
    /// or context, or is not a sealed value.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix("v1.")?)
            .ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let cipher = Aes256Gcm::new_from_slice(&self.seal).ok()?;
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }

    /// A keyed hash of the client's network (IPv4 address, or IPv6 /64), never the address.
    pub fn network_hash(&self, ip: IpAddr) -> String {
        let bytes: Vec<u8> = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets()[..8].to_vec(),
            },
        };
        let mac = sign(&self.network, &bytes);
        mac[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_bind_to_their_owner() {
        let k = Keys::new(b"secret");
        let t = k.csrf_token("voter-a");
        assert!(k.verify_csrf("voter-a", &t));
        assert!(!k.verify_csrf("voter-b", &t));
        let again = k.csrf_token("voter-a");
        assert_ne!(t, again, "a fresh mask every time");
        assert!(k.verify_csrf("voter-a", &again));
        assert!(!Keys::new(b"other").verify_csrf("voter-a", &t));
        for bad in ["", "x", &t[..t.len() - 2], "!!!!", &"A".repeat(86)] {
            assert!(!k.verify_csrf("voter-a", bad), "{bad:?}");
        }
        assert!(!k.verify_csrf("voter-a", ""));
        assert!(!Keys::new(b"other").verify_csrf("voter-a", &t));
    }

    #[test]
    fn networks_group_ipv6_by_prefix() {
        let k = Keys::new(b"secret");
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(k.network_hash(a), k.network_hash(b));
        assert_ne!(k.network_hash(a), k.network_hash(c));
        assert_eq!(k.network_hash("10.0.0.1".parse().unwrap()).len(), 32);
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let k = Keys::new(b"secret");
        let sealed = k.seal("totp:1", b"twenty bytes secret!");
        assert!(sealed.starts_with("v1."));
        assert_ne!(
            sealed,
            k.seal("totp:1", b"twenty bytes secret!"),
            "fresh nonce"
        );
        assert_eq!(
            k.open("totp:1", &sealed).as_deref(),
            Some(&b"twenty bytes secret!"[..])
        );
        assert_eq!(k.open("totp:2", &sealed), None, "another row");
        assert_eq!(
            Keys::new(b"other").open("totp:1", &sealed),
            None,
            "another key"
        );
        for bad in ["", "v1.", "v1.!!", "v2.AAAA", &sealed[..sealed.len() - 3]] {
            assert_eq!(k.open("totp:1", bad), None, "{bad:?}");
        }
    }
}
