//! Keys derived from the configured secret: CSRF tokens and network hashes.

use std::net::IpAddr;

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
}

fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn sign(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

impl Keys {
    /// Derives the keys from the secret key's bytes.
    pub fn new(secret: &[u8]) -> Keys {
        Keys {
            csrf: derive(secret, "beebeta/csrf/v1"),
            network: derive(secret, "beebeta/network/v1"),
        }
    }

    /// The CSRF token bound to a voter (or, later, a session) id.
    pub fn csrf_token(&self, binding: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sign(&self.csrf, binding.as_bytes()))
    }

    /// Checks a CSRF token in constant time.
    pub fn verify_csrf(&self, binding: &str, token: &str) -> bool {
        let expected = self.csrf_token(binding);
        expected.len() == token.len() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
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
}
