//! Account values: usernames, emails, passwords, and the forms of a typed login.

use std::collections::HashSet;
use std::sync::LazyLock;

use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;

use super::Invalid;

/// The 10,000 most common passwords (see `data/README.md`), lowercase.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../../data/common-passwords.txt")
        .lines()
        .collect()
});

/// A username: 3 to 32 letters, digits, `_` or `-`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Names that would shadow routes or mislead.
    const RESERVED: &'static [&'static str] = &[
        "admin",
        "administrator",
        "root",
        "beebeta",
        "api",
        "login",
        "logout",
        "signup",
        "settings",
        "ask",
        "me",
        "support",
    ];

    /// Validates a new username.
    pub fn parse(s: &str) -> Result<Username, Invalid> {
        let v = s.trim();
        let n = v.chars().count();
        if !(3..=32).contains(&n) {
            return Err(Invalid::new(
                "invalid_username",
                "A username has 3 to 32 characters.",
            ));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || !v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        {
            return Err(Invalid::new(
                "invalid_username",
                "A username uses letters, digits, _ and -, and starts with a letter or digit.",
            ));
        }
        if Self::RESERVED.contains(&v.to_ascii_lowercase().as_str()) {
            return Err(Invalid::new(
                "invalid_username",
                format!(
                    "“{v}” is reserved for the site (so are {}); please choose another username.",
                    Self::RESERVED
                        .iter()
                        .filter(|r| !r.eq_ignore_ascii_case(v))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(Username(v.to_string()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, trimmed and lowercased; checked for shape, not deliverability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates an email address.
    pub fn parse(s: &str) -> Result<Email, Invalid> {
        let v = s.trim().to_lowercase();
        let bad = || Invalid::new("invalid_email", "Enter a valid email address.");
        if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = v.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(bad());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            return Err(bad());
        }
        Ok(Email(v))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 10 characters, at most 1,024, not a common one, not the username.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    /// Fewest characters.
    pub const MIN_CHARS: usize = 12;

    /// Validates a new password for the account `username` with address `email` (ASVS 2.1: at
    /// least 12 characters, at most 1024, not a common one, not the username or email).
    pub fn parse(s: &str, username: &str, email: &str) -> Result<NewPassword, Invalid> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Invalid::new(
                "weak_password",
                format!("Use at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if n > 1024 {
            return Err(Invalid::new(
                "weak_password",
                "Use at most 1024 characters.",
            ));
        }
        let lower = s.to_lowercase();
        if COMMON_PASSWORDS.contains(lower.as_str()) {
            return Err(Invalid::new(
                "weak_password",
                "That password is one of the most common ones; choose another.",
            ));
        }
        if !username.is_empty() && lower.contains(&username.to_lowercase()) {
            return Err(Invalid::new(
                "weak_password",
                "The password must not contain your username.",
            ));
        }
        let email = email.trim().to_lowercase();
        let local = email.split('@').next().unwrap_or("");
        if !email.is_empty()
            && (lower.contains(&email) || (local.chars().count() >= 4 && lower.contains(local)))
        {
            return Err(Invalid::new(
                "weak_password",
                "The password must not contain your email address.",
            ));
        }
        Ok(NewPassword(s.to_string()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A typed login (username or email) trimmed and in Unicode NFKC, so compatibility forms read as
/// their plain letters (`ａｌｉｃｅ` is `alice`, `＠` is `@`), as MySQL's collation reads them.
pub fn login_nfkc(typed: &str) -> String {
    ComposingNormalizerBorrowed::new_nfkc()
        .normalize(typed.trim())
        .trim()
        .to_string()
}

/// What failed logins for an unknown account are counted by: NFKC, case folded, accents and other
/// non-spacing marks removed, trimmed. It equates at least the spellings that MySQL's
/// `utf8mb4_unicode_ci` takes for one login (`alice`, `ALICE`, `ａｌｉｃｅ`, `àlice`), so an unknown
/// login backs off under as many spellings as a known one does.
pub fn login_fold(typed: &str) -> String {
    // One pass is not always a fixed point (`ẞ` upper-cases to itself and lower-cases to `ß`,
    // which the next pass turns into `ss`): repeat until nothing changes (two passes in practice).
    let mut folded = fold_once(&login_nfkc(typed));
    for _ in 0..3 {
        let again = fold_once(&folded);
        if again == folded {
            break;
        }
        folded = again;
    }
    folded
}

fn fold_once(nfkc: &str) -> String {
    // Upper then lower case: the full folds (`ß` to `ss`, final `ς` and `σ` alike) as well.
    let cased = nfkc.to_uppercase().to_lowercase();
    let marks = CodePointMapData::<GeneralCategory>::new();
    let bare: String = DecomposingNormalizerBorrowed::new_nfkd()
        .normalize(&cased)
        .chars()
        .filter(|c| marks.get(*c) != GeneralCategory::NonspacingMark)
        .collect();
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(&bare)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("alice_01").is_ok());
        for bad in [
            "al",
            "-alice",
            "alice bob",
            "ädmin",
            &"a".repeat(33),
            "Admin",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
        // A reserved name says so, and names the others (create-admin prints it).
        let e = Username::parse("Admin").unwrap_err();
        assert!(e.message.contains("“Admin” is reserved"), "{}", e.message);
        assert!(
            e.message.contains("root") && !e.message.contains("admin,"),
            "{}",
            e.message
        );
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "alice",
            "a@b",
            "@x.org",
            "a@@x.org",
            "a b@x.org",
            "a@-x.org",
            "a@x..org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(COMMON_PASSWORDS.len(), 10_000);
        let ok = |p: &str| NewPassword::parse(p, "alice", "alice@example.com").is_ok();
        assert!(ok("correct horse battery"));
        assert!(ok("twelve chars"), "12 characters are enough");
        assert!(!ok("eleven char"), "11 are not (ASVS 2.1.1)");
        assert!(!ok("short"));
        assert!(!ok("qwerty123456"), "common");
        assert!(
            NewPassword::parse("Password1234", "bob", "bob@example.com").is_err(),
            "common, any case"
        );
        assert!(!ok("alice-is-great!"), "contains the username");
        assert!(
            NewPassword::parse("my mail alice.w@example.com", "aw", "Alice.W@example.com").is_err(),
            "contains the email"
        );
        assert!(
            NewPassword::parse("wonderland-alice.w-1", "aw", "alice.w@example.com").is_err(),
            "contains the email's local part"
        );
        assert!(
            NewPassword::parse("a long bob passphrase", "zed", "bob@example.com").is_ok(),
            "a local part under 4 characters is no rule"
        );
        assert_eq!(
            format!(
                "{:?}",
                NewPassword::parse("correct horse battery", "x", "x@example.com").unwrap()
            ),
            "NewPassword(***)"
        );
    }

    #[test]
    fn logins_fold_like_the_collation() {
        assert_eq!(login_nfkc(" ａｌｉｃｅ "), "alice");
        assert_eq!(login_nfkc("ａｌｉｃｅ＠example.com"), "alice@example.com");
        assert_eq!(login_nfkc("Alice"), "Alice", "NFKC keeps case");
        for spelling in [
            "alice",
            "ALICE",
            " Alice\t",
            "ａｌｉｃｅ",
            "ＡＬＩＣＥ",
            "àlice",
            "a\u{0301}lice",
            "ÀLİCE",
        ] {
            assert_eq!(login_fold(spelling), "alice", "{spelling:?}");
        }
        assert_eq!(login_fold("Straße"), login_fold("STRASSE"));
        // Capital sharp s: one pass gave `ß`, a second `ss` (found by the property test).
        assert_eq!(login_fold("STRAẞE"), "strasse");
        assert_eq!(login_fold(&login_fold("ẞȺK")), login_fold("ẞȺK"));
        assert_eq!(login_fold("ΟΔΟΣ"), login_fold("οδοσ"));
        assert_eq!(login_fold("Alice@Example.COM"), "alice@example.com");
        assert_ne!(login_fold("alice"), login_fold("alicia"));
        assert_eq!(login_fold("  "), "");
    }
}
