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

/// A tag: lowercase letters, digits and single dashes, 1 to 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName(String);

impl TagName {
    /// Normalises free text to slug form ("Machine Learning" → "machine-learning").
    pub fn parse(s: &str) -> Result<TagName, Invalid> {
        if s.len() > 200 {
            return Err(Invalid::new(
                "invalid_tag",
                "A tag can have at most 32 characters.",
            ));
        }
        let v = slug::slugify(s.trim().trim_start_matches('#'));
        if v.is_empty() {
            return Err(Invalid::new(
                "invalid_tag",
                "A tag needs at least one letter or digit.",
            ));
        }
        if v.len() > 32 {
            return Err(Invalid::new(
                "invalid_tag",
                "A tag can have at most 32 characters.",
            ));
        }
        Ok(TagName(v))
    }

    /// Parses a tag exactly as it appears in a URL (already normalised), else `None`.
    pub fn from_url(s: &str) -> Option<TagName> {
        TagName::parse(s).ok().filter(|t| t.0 == s)
    }

    /// The normalised tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What a visitor typed to complete a tag, in slug form (its first 32 characters); `None`
    /// when nothing of it is left.
    pub fn prefix(typed: &str) -> Option<String> {
        let p = slug::slugify(typed.trim().chars().take(32).collect::<String>());
        (!p.is_empty()).then_some(p)
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
