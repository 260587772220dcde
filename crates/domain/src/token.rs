//! Personal API tokens: what a token may do (its scopes) and how long it lives.

use super::Invalid;

/// One thing a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read questions, results and tags.
    Read,
    /// Cast, change and withdraw votes.
    Vote,
    /// Ask questions and upload their images.
    Ask,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Vote, Scope::Ask];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Vote => "vote",
            Scope::Ask => "ask",
        }
    }

    fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// The scope an API request needs: reading for GET and HEAD, voting for a ballot, asking for
    /// anything else that writes (a question, an upload).
    pub fn for_request(method: &str, path: &str) -> Scope {
        match method {
            "GET" | "HEAD" => Scope::Read,
            _ if path.trim_end_matches('/').ends_with("/vote") => Scope::Vote,
            _ => Scope::Ask,
        }
    }
}

/// The scopes of a token: a non-empty set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes {
    read: bool,
    vote: bool,
    ask: bool,
}

impl Scopes {
    /// Parses scopes as chosen in a form or stored (`read vote`); at least one, no unknown one.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, Invalid> {
        let mut scopes = Scopes {
            read: false,
            vote: false,
            ask: false,
        };
        for name in names.into_iter().flat_map(|n| n.split([' ', ','])) {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            match Scope::parse(name) {
                Some(Scope::Read) => scopes.read = true,
                Some(Scope::Vote) => scopes.vote = true,
                Some(Scope::Ask) => scopes.ask = true,
                None => {
                    return Err(Invalid::new(
                        "invalid_scope",
                        "A token's scopes are read, vote and ask.",
                    ));
                }
            }
        }
        if scopes
            == (Scopes {
                read: false,
                vote: false,
                ask: false,
            })
        {
            return Err(Invalid::new(
                "invalid_scope",
                "Choose at least one thing the token may do.",
            ));
        }
        Ok(scopes)
    }

    /// Whether the token may do `scope`.
    pub fn allows(&self, scope: Scope) -> bool {
        match scope {
            Scope::Read => self.read,
            Scope::Vote => self.vote,
            Scope::Ask => self.ask,
        }
    }

    /// The stored form, `read vote ask` (the chosen ones, in that order).
    pub fn as_string(&self) -> String {
        Scope::ALL
            .into_iter()
            .filter(|s| self.allows(*s))
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How long a new token lives: 1 to 365 days, 90 when not chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetime(u32);

impl TokenLifetime {
    /// The lifetime when none is chosen.
    pub const DEFAULT_DAYS: u32 = 90;
    /// The longest lifetime.
    pub const MAX_DAYS: u32 = 365;

    /// Parses a number of days from a form (empty: the default).
    pub fn parse(days: &str) -> Result<TokenLifetime, Invalid> {
        let days = days.trim();
        if days.is_empty() {
            return Ok(TokenLifetime(Self::DEFAULT_DAYS));
        }
        match days.parse::<u32>() {
            Ok(d) if (1..=Self::MAX_DAYS).contains(&d) => Ok(TokenLifetime(d)),
            _ => Err(Invalid::new(
                "invalid_expiry",
                "A token lives 1 to 365 days.",
            )),
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let s = Scopes::parse(["read", "vote"]).unwrap();
        assert!(s.allows(Scope::Read) && s.allows(Scope::Vote) && !s.allows(Scope::Ask));
        assert_eq!(s.as_string(), "read vote");
        assert_eq!(Scopes::parse(["ask read"]).unwrap().as_string(), "read ask");
        assert_eq!(
            Scopes::parse(["read vote ask"]).unwrap(),
            Scopes::parse(["ask,vote,read"]).unwrap()
        );
        assert!(Scopes::parse([]).is_err());
        assert!(Scopes::parse([" "]).is_err());
        assert!(Scopes::parse(["admin"]).is_err());
        assert_eq!(
            Scope::for_request("GET", "/api/v1/questions/1"),
            Scope::Read
        );
        assert_eq!(
            Scope::for_request("PUT", "/api/v1/questions/1/vote"),
            Scope::Vote
        );
        assert_eq!(
            Scope::for_request("DELETE", "/api/v1/questions/1/vote"),
            Scope::Vote
        );
        assert_eq!(Scope::for_request("POST", "/api/v1/questions"), Scope::Ask);
        assert_eq!(Scope::for_request("POST", "/api/v1/uploads"), Scope::Ask);
    }

    #[test]
    fn lifetimes() {
        assert_eq!(TokenLifetime::parse("").unwrap().days(), 90);
        assert_eq!(TokenLifetime::parse("365").unwrap().days(), 365);
        assert_eq!(TokenLifetime::parse(" 7 ").unwrap().days(), 7);
        for bad in ["0", "366", "-1", "x", "1e3"] {
            assert!(TokenLifetime::parse(bad).is_err(), "{bad}");
        }
    }
}
