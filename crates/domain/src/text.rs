//! Validated text values: titles, labels, descriptions, tag names, search queries.

use super::Invalid;

/// Whether `c` is kept in stored text: not a control character (NUL, escape, ...) nor a bidi
/// embedding, override or isolate (they make a title display as something else).
fn shown(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean(s: &str) -> String {
    // Drop what is never shown, then collapse runs of whitespace.
    let kept: String = s
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| shown(*c))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $code:literal, $what:literal, $min:expr, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Fewest characters accepted.
            pub const MIN_CHARS: usize = $min;
            /// Most characters accepted.
            pub const MAX_CHARS: usize = $max;

            /// Trims and collapses whitespace, then checks the length in characters.
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                let v = clean(s);
                let n = v.chars().count();
                if n < $min {
                    return Err(Invalid::new($code, format!("The {} must have at least {} characters.", $what, $min)));
                }
                if n > $max {
                    return Err(Invalid::new($code, format!("The {} can have at most {} characters.", $what, $max)));
                }
                Ok($name(v))
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Gives the text back.
            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}

bounded_text!(
    /// A question's title: 10 to 200 characters.
    QuestionTitle, "invalid_title", "title", 10, 200
);
bounded_text!(
    /// A choice's label: 1 to 200 characters.
    ChoiceLabel, "invalid_choice_label", "choice", 1, 200
);

/// A question's optional description: at most 5,000 characters, line breaks kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Trims; an empty description is `None`.
    pub fn parse(s: &str) -> Result<Option<Description>, Invalid> {
        let v: String = s
            .trim()
            .replace("\r\n", "\n")
            .chars()
            .filter(|c| matches!(c, '\n' | '\t') || shown(*c))
            .collect();
        if v.is_empty() {
            return Ok(None);
        }
        if v.chars().count() > 5000 {
            return Err(Invalid::new(
                "invalid_description",
                "The description can have at most 5000 characters.",
            ));
        }
        Ok(Some(Description(v)))
    }

    /// The validated text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag: lowercase letters and digits, single dashes between words, and the symbols that tell
/// tags apart (`+`, `#`, `.`: `c++`, `c#`, `.net`, `node.js`), 1 to 32 characters with at least
/// one letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName(String);

/// Characters a tag keeps as typed besides letters and digits.
pub const TAG_SYMBOLS: [char; 3] = ['+', '#', '.'];

/// A tag's normal form: accents and other scripts transliterated (`Café` → `cafe`), lower case,
/// [`TAG_SYMBOLS`] kept, every other run of characters one dash; a leading `#` (a hashtag, also
/// after dropped punctuation: `(#c` → `c`) and trailing dashes and dots dropped.
fn normal_tag(typed: &str) -> String {
    let typed = typed.trim().trim_start_matches('#');
    let mut v = String::with_capacity(typed.len());
    for c in deunicode::deunicode(typed).chars() {
        if c.is_ascii_alphanumeric() {
            v.push(c.to_ascii_lowercase());
        } else if TAG_SYMBOLS.contains(&c) && !(c == '#' && v.is_empty()) {
            v.push(c);
        } else if !v.is_empty() && !v.ends_with('-') {
            v.push('-');
        }
    }
    v.trim_end_matches(['-', '.']).to_string()
}

/// What was typed, spelled the way tags are but with nothing dropped at either end: the same as
/// [`normal_tag`] unless normalising loses a leading `#` or punctuation at the start or end.
fn spelled_tag(typed: &str) -> String {
    let mut v = String::with_capacity(typed.len());
    for c in deunicode::deunicode(typed.trim()).trim().chars() {
        if c.is_ascii_alphanumeric() {
            v.push(c.to_ascii_lowercase());
        } else if TAG_SYMBOLS.contains(&c) {
            v.push(c);
        } else if !v.ends_with('-') {
            v.push('-');
        }
    }
    v
}

impl TagName {
    /// Longest tag, in characters.
    pub const MAX_CHARS: usize = 32;

    /// Normalises free text ("Machine Learning" → "machine-learning", "C++" → "c++").
    pub fn parse(s: &str) -> Result<TagName, Invalid> {
        if s.len() > 200 {
            return Err(Invalid::new(
                "invalid_tag",
                "A tag can have at most 32 characters.",
            ));
        }
        let v = normal_tag(s);
        if !v.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(Invalid::new(
                "invalid_tag",
                "A tag needs at least one letter or digit.",
            ));
        }
        if v.len() > Self::MAX_CHARS {
            return Err(Invalid::new(
                "invalid_tag",
                "A tag can have at most 32 characters.",
            ));
        }
        Ok(TagName(v))
    }

    /// Whether normalising `typed` drops characters at its start or end that might tell it apart
    /// from another tag (`C--` → `c`, `#C` → `c`, `rust.` → `rust`). Case, accents and the spaces
    /// or punctuation between words (`Hello World` → `hello-world`) are not losses.
    pub fn loses_edges(typed: &str) -> bool {
        normal_tag(typed) != spelled_tag(typed)
    }

    /// Parses a tag exactly as it appears in a URL (already normalised), else `None`.
    pub fn from_url(s: &str) -> Option<TagName> {
        TagName::parse(s).ok().filter(|t| t.0 == s)
    }

    /// The normalised tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a visitor typed to complete a tag, in normal form (its first 32 characters); `None`
    /// when nothing of it is left.
    pub fn prefix(typed: &str) -> Option<String> {
        let p = normal_tag(
            &typed
                .trim()
                .chars()
                .take(Self::MAX_CHARS)
                .collect::<String>(),
        );
        (!p.is_empty()).then_some(p)
    }

    /// The tag's page on the site: `/t/<tag>`, with `#` escaped (it would start a fragment).
    pub fn path_of(name: &str) -> String {
        format!("/t/{}", name.replace('%', "%25").replace('#', "%23"))
    }
}

/// A search query: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    /// Longest accepted query, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Validates a query; an empty one is `None` (show the empty search page).
    pub fn parse(s: &str) -> Result<Option<SearchQuery>, Invalid> {
        let v = clean(s);
        if v.is_empty() {
            return Ok(None);
        }
        if v.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new(
                "invalid_query",
                format!(
                    "Search text can have at most {} characters.",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Some(SearchQuery(v)))
    }

    /// The query text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A `LIKE` pattern matching the query anywhere, with wildcards escaped (escape char `\`).
    pub fn like_pattern(&self) -> String {
        let mut p = String::with_capacity(self.0.len() + 2);
        p.push('%');
        for c in self.0.chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(
            QuestionTitle::parse("  Is   tea better? ")
                .unwrap()
                .as_str(),
            "Is tea better?"
        );
        assert!(QuestionTitle::parse("short").is_err());
        assert!(QuestionTitle::parse(&"x".repeat(201)).is_err());
        assert!(ChoiceLabel::parse("  ").is_err());
    }

    #[test]
    fn tags() {
        assert_eq!(
            TagName::parse("Machine Learning").unwrap().as_str(),
            "machine-learning"
        );
        assert_eq!(TagName::parse("#Rust").unwrap().as_str(), "rust");
        assert!(TagName::parse("!!!").is_err());
        assert!(TagName::parse(&"a".repeat(33)).is_err());
        assert!(TagName::from_url("Rust").is_none());
        assert!(TagName::from_url("rust").is_some());
        // Symbols that tell tags apart are kept: three different tags, not `c`, `c` and `net`.
        let typed = [
            "C++",
            "c#",
            ".NET",
            "Hello World",
            "node.js",
            "Café crème",
            "rust.",
        ];
        let tags: Vec<String> = typed
            .iter()
            .map(|t| TagName::parse(t).unwrap().as_str().to_string())
            .collect();
        assert_eq!(
            tags,
            [
                "c++",
                "c#",
                ".net",
                "hello-world",
                "node.js",
                "cafe-creme",
                "rust"
            ]
        );
        // No normal form starts with `#`, so every one reads back as itself.
        assert_eq!(TagName::parse("(#C)").unwrap().as_str(), "c");
        assert!(TagName::from_url("c").is_some());
        assert!(TagName::parse("++").is_err());
        assert!(TagName::parse("...").is_err());
        assert_eq!(TagName::path_of("c#"), "/t/c%23");
        assert_eq!(TagName::path_of("c++"), "/t/c++");
        assert_eq!(TagName::prefix("C+").as_deref(), Some("c+"));
    }

    #[test]
    fn tags_that_lose_their_edges() {
        for lossy in [
            "C--", "#C", "#rust", "rust.", "(rust)", "¿Qué?", "node.js.", "-go",
        ] {
            assert!(TagName::loses_edges(lossy), "{lossy}");
        }
        for kept in [
            "C++",
            "c#",
            ".NET",
            "Hello World",
            "hello - world",
            "hello_world",
            "  Rust  ",
            "Café crème",
            "node.js",
            "日本",
        ] {
            assert!(!TagName::loses_edges(kept), "{kept}");
        }
    }

    #[test]
    fn search() {
        assert_eq!(SearchQuery::parse("   ").unwrap(), None);
        assert!(SearchQuery::parse(&"q".repeat(10_000)).is_err());
        let q = SearchQuery::parse("50%_off\\").unwrap().unwrap();
        assert_eq!(q.like_pattern(), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn descriptions() {
        assert_eq!(Description::parse("  ").unwrap(), None);
        assert_eq!(
            Description::parse("a\r\nb").unwrap().unwrap().as_str(),
            "a\nb"
        );
        assert!(Description::parse(&"d".repeat(5001)).is_err());
    }
}
