//! The client's address: the socket peer, or — only when the peer is a trusted proxy — the
//! address in the one header that proxy sets (`client_ip_header`, default `X-Real-IP`).

use std::net::IpAddr;

use crate::models::security_event::Origin;
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

/// How the client address is learned: from the socket peer, or — only when the peer is one of the
/// trusted proxies — from the one header those proxies set (`client_ip_header`, default
/// `X-Real-IP`). Every other header a client may send (`X-Forwarded-For`, `Forwarded`,
/// `X-Real-IP` when another header is configured, ...) is ignored.
#[derive(Debug, Clone)]
pub struct ClientAddressing {
    proxies: TrustedProxies,
    header: String,
}

impl ClientAddressing {
    /// The proxies (addresses or networks) and the header they set.
    pub fn new(proxies: TrustedProxies, header: &str) -> Result<ClientAddressing, String> {
        let header = header.trim();
        let token = !header.is_empty()
            && header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !token {
            return Err(format!(
                "invalid client_ip_header `{header}`: a header name"
            ));
        }
        Ok(ClientAddressing {
            proxies,
            header: header.to_string(),
        })
    }

    /// The header the trusted proxies set.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// The client address given the socket peer and the configured header's value.
    pub fn resolve(&self, peer: Option<IpAddr>, header: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.proxies.contains(peer) {
            return Some(peer);
        }
        // One address, or a chain (an X-Forwarded-For the proxy appended to): the rightmost hop
        // that is not itself a trusted proxy.
        let from_header = header.and_then(|value| {
            let hops: Vec<IpAddr> = value
                .split(',')
                .map(|h| h.trim().parse().ok())
                .collect::<Option<Vec<_>>>()?;
            hops.into_iter()
                .rev()
                .find(|ip| !self.proxies.contains(*ip))
        });
        Some(from_header.unwrap_or(peer))
    }
}

/// The client's address as far as it can be trusted (`None` when unknown).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The client as a rate-limit key: an IPv4 address, or an IPv6 client's /64 (one subscriber
    /// usually holds a whole /64, so limits per address would be 2^64 buckets).
    pub fn key(&self) -> Option<String> {
        self.0.map(|ip| match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        })
    }

    /// The keyed hash of the client's network (see `Keys::network_hash`: an IPv4 address or an
    /// IPv6 /64), for the per-network window of `network`-protected questions; `None` when the
    /// address is unknown.
    pub fn network_hash(&self, keys: &crate::auth::Keys) -> Option<String> {
        self.0.map(|ip| keys.network_hash(ip))
    }

    /// Computes (once per request) the client address.
    pub fn of(req: &Request<'_>) -> ClientIp {
        *req.local_cache(|| {
            let peer = req.remote().map(|a| a.ip());
            ClientIp(match req.rocket().state::<ClientAddressing>() {
                Some(addressing) => {
                    addressing.resolve(peer, req.headers().get_one(addressing.header()))
                }
                None => peer,
            })
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

/// Where the request came from, for the account's security log: the client network's keyed hash
/// and the browser.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for Origin {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(origin_of(req))
    }
}

/// The request's [`Origin`].
pub fn origin_of(req: &Request<'_>) -> Origin {
    let network = req
        .rocket()
        .state::<crate::auth::Keys>()
        .and_then(|keys| ClientIp::of(req).network_hash(keys));
    Origin {
        network,
        user_agent: req
            .headers()
            .get_one("User-Agent")
            .map(|ua| ua.chars().take(255).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn addressing(header: &str) -> ClientAddressing {
        let t = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        ClientAddressing::new(t, header).unwrap()
    }

    #[test]
    fn only_the_configured_header_of_a_trusted_proxy_counts() {
        let a = addressing("X-Real-IP");
        // Not a proxy: its headers mean nothing.
        assert_eq!(
            a.resolve(Some(ip("203.0.113.9")), Some("5.6.7.8")),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            a.resolve(Some(ip("127.0.0.1")), Some("5.6.7.8")),
            Some(ip("5.6.7.8"))
        );
        assert_eq!(
            a.resolve(Some(ip("::ffff:127.0.0.1")), Some("5.6.7.8")),
            Some(ip("5.6.7.8"))
        );
        // A proxy that sent no (or a garbled) header: the proxy is the client.
        assert_eq!(
            a.resolve(Some(ip("127.0.0.1")), None),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            a.resolve(Some(ip("127.0.0.1")), Some("garbage")),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(a.resolve(None, Some("5.6.7.8")), None);
        // A chain: the rightmost hop that is not a proxy; spoofed left entries are ignored.
        let xff = addressing("X-Forwarded-For");
        assert_eq!(
            xff.resolve(
                Some(ip("127.0.0.1")),
                Some("6.6.6.6, 198.51.100.2, 10.1.1.1")
            ),
            Some(ip("198.51.100.2"))
        );
        assert!(TrustedProxies::parse(&["nonsense".into()]).is_err());
        for bad in ["", "X Real IP", "X-Real-IP:", "a\nb"] {
            assert!(
                ClientAddressing::new(TrustedProxies::default(), bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let key = |s: &str| ClientIp(Some(ip(s))).key().unwrap();
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(key("2001:db8:1:2::9"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
    }
}
