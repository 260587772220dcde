//! The client's address: the socket peer, or — only when the peer is a trusted proxy — the
//! address the proxy reports in `X-Forwarded-For` (rightmost untrusted hop) or `X-Real-IP`.

use std::net::IpAddr;

use ipnet::IpNet;
use rocket::request::{FromRequest, Outcome, Request};

/// Parsed trusted proxy networks.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.5`) and networks (`10.0.0.0/8`).
    pub fn parse(items: &[String]) -> Result<TrustedProxies, String> {
        items
            .iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("invalid trusted proxy `{s}`: use an address or a CIDR network")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// Resolves the client address from the peer and the proxy headers.
pub fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    real_ip: Option<&str>,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(peer) {
        return Some(peer);
    }
    if let Some(chain) = forwarded_for {
        let hops: Vec<IpAddr> = chain
            .split(',')
            .filter_map(|h| h.trim().parse().ok())
            .collect();
        if let Some(ip) = hops.iter().rev().find(|ip| !trusted.contains(**ip)) {
            return Some(*ip);
        }
    }
    if let Some(ip) = real_ip.and_then(|v| v.trim().parse().ok()) {
        return Some(ip);
    }
    Some(peer)
}

/// The client's address as far as it can be trusted (`None` when unknown).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The address as a rate-limit key.
    pub fn key(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }

    /// The keyed hash of the client's network (see `Keys::network_hash`), for the per-network
    /// window of `network`-protected questions; `None` when the address is unknown.
    pub fn network_hash(&self, keys: &crate::auth::Keys) -> Option<String> {
        self.0.map(|ip| keys.network_hash(ip))
    }

    /// Computes (once per request) the client address.
    pub fn of(req: &Request<'_>) -> ClientIp {
        *req.local_cache(|| {
            let trusted = req
                .rocket()
                .state::<TrustedProxies>()
                .cloned()
                .unwrap_or_default();
            ClientIp(resolve(
                req.remote().map(|a| a.ip()),
                req.headers().get_one("X-Forwarded-For"),
                req.headers().get_one("X-Real-IP"),
                &trusted,
            ))
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientIp::of(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let t = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            resolve(
                Some(ip("203.0.113.9")),
                Some("1.2.3.4"),
                Some("5.6.7.8"),
                &t
            ),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), None, Some("5.6.7.8"), &t),
            Some(ip("5.6.7.8"))
        );
        assert_eq!(
            resolve(
                Some(ip("127.0.0.1")),
                Some("6.6.6.6, 198.51.100.2, 10.1.1.1"),
                None,
                &t
            ),
            Some(ip("198.51.100.2")),
            "the rightmost hop that is not a proxy; spoofed left entries are ignored"
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), Some("garbage"), None, &t),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            resolve(Some(ip("::ffff:127.0.0.1")), None, Some("5.6.7.8"), &t),
            Some(ip("5.6.7.8"))
        );
        assert_eq!(resolve(None, None, Some("5.6.7.8"), &t), None);
        assert!(TrustedProxies::parse(&["nonsense".into()]).is_err());
    }
}
