//! Full-text search, the database-free half: what a visitor typed, parsed into words and quoted
//! phrases, and the words a question is indexed under.
//!
//! Both halves fold text the same way — NFKC, lower case, accents off Latin, Greek and Cyrillic
//! letters (`café` → `cafe`), letters and digits only, every other character a space — so the database's tokenizer (InnoDB's built-in parser, SQLite's
//! `unicode61`) only ever splits on spaces and the two backends agree on what a word is.
//! InnoDB does not index words shorter than `innodb_ft_min_token_size` (3 by default): indexed
//! and searched words are padded with `_` to three characters (`eu` → `eu_`), which InnoDB
//! counts as part of a word and SQLite's tokenizer drops again.

use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};

use super::Invalid;
use super::poll::string_enum;
use super::text::SearchQuery;

/// Words a search may hold; the rest of a longer query is ignored.
pub const MAX_TERMS: usize = 12;
/// Characters kept of one word (InnoDB ignores words over 84).
pub const MAX_WORD_CHARS: usize = 40;
/// Shortest word InnoDB indexes by default; shorter words are padded to it.
pub const MIN_WORD_CHARS: usize = 3;

/// Words that narrow nothing ("what is the best …"): left out of a query's words unless the
/// query has nothing else, but still indexed, so a quoted phrase can hold them.
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "do", "for", "from", "how", "i",
    "in", "is", "it", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when",
    "where", "which", "who", "will", "with", "you",
];

/// Folds text to its words: NFKC, lower case, without the combining accents of the Latin,
/// Greek and Cyrillic letters (U+0300–U+036F, as SQLite's `remove_diacritics` and MariaDB's
/// `_ci` collations ignore them: the folded text then compares byte for byte on both
/// backends), runs of letters and digits (each cut to `MAX_WORD_CHARS`).
pub fn words(text: &str) -> Vec<String> {
    let decomposed = DecomposingNormalizerBorrowed::new_nfd().normalize(text);
    let bare: String = decomposed
        .chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect();
    let folded = ComposingNormalizerBorrowed::new_nfkc()
        .normalize(&bare)
        .to_lowercase();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect())
        .collect()
}

/// A word as it is stored in and looked up from the index: padded with `_` to
/// `MIN_WORD_CHARS`.
pub fn index_word(word: &str) -> String {
    let n = word.chars().count();
    let mut w = String::with_capacity(word.len() + MIN_WORD_CHARS);
    w.push_str(word);
    for _ in n..MIN_WORD_CHARS {
        w.push('_');
    }
    w
}

/// The indexed form of a text: its words, padded, separated by spaces.
pub fn index_text(text: &str) -> String {
    words(text)
        .iter()
        .map(|w| index_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a question is found by: its title, and everything else a visitor may remember of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    /// The title's words (ranked above the rest).
    pub title: String,
    /// The description, the choice labels and the tag names, as words.
    pub body: String,
}

impl SearchDocument {
    /// The document of a question.
    pub fn new<'a>(
        title: &str,
        description: Option<&str>,
        choices: impl IntoIterator<Item = &'a str>,
        tags: impl IntoIterator<Item = &'a str>,
    ) -> SearchDocument {
        let mut body = String::new();
        let mut add = |s: &str| {
            let t = index_text(s);
            if !t.is_empty() {
                if !body.is_empty() {
                    body.push(' ');
                }
                body.push_str(&t);
            }
        };
        if let Some(d) = description {
            add(d);
        }
        for c in choices {
            add(c);
        }
        for t in tags {
            add(t);
        }
        SearchDocument {
            title: index_text(title),
            body,
        }
    }
}

impl SearchDocument {
    /// The document of a question about to be stored.
    pub fn of_draft(draft: &crate::draft::QuestionDraft) -> SearchDocument {
        SearchDocument::new(
            draft.title.as_str(),
            draft.description.as_ref().map(|d| d.as_str()),
            draft.choices.iter().map(|c| c.as_str()),
            draft.tags.iter().map(|t| t.as_str()),
        )
    }
}

/// One thing to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word; `prefix`: also words starting with it (the last word typed, two characters or
    /// more).
    Word {
        /// The folded word (unpadded).
        word: String,
        /// Whether longer words starting with it match too.
        prefix: bool,
    },
    /// Words in this order, next to each other (typed in double quotes).
    Phrase(Vec<String>),
}

/// A search ready to run: the text as typed and the terms found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms {
    query: SearchQuery,
    terms: Vec<Term>,
}

impl SearchTerms {
    /// Parses what was typed; `None` when nothing was (the empty search page). Refused: more than
    /// `SearchQuery::MAX_CHARS` characters (`invalid_query`), or no letter or digit at all (only
    /// operators: `no_words`).
    pub fn parse(typed: &str) -> Result<Option<SearchTerms>, Invalid> {
        let Some(query) = SearchQuery::parse(typed)? else {
            return Ok(None);
        };
        // A space typed after the last word says the word is finished: no prefix matching.
        SearchTerms::of(query, typed.ends_with(char::is_whitespace)).map(Some)
    }

    /// The terms of a validated query.
    fn of(query: SearchQuery, finished: bool) -> Result<SearchTerms, Invalid> {
        let text = query.as_str();
        let mut terms: Vec<Term> = Vec::new();
        // Double quotes (straight or curly) open and close phrases; an unclosed one runs to the end.
        let mut last_is_bare_word = false;
        for (i, part) in text
            .split(['"', '\u{201c}', '\u{201d}', '\u{201e}'])
            .enumerate()
        {
            let in_phrase = i % 2 == 1;
            let ws = words(part);
            if ws.is_empty() {
                continue;
            }
            if in_phrase && ws.len() > 1 {
                terms.push(Term::Phrase(ws));
                last_is_bare_word = false;
            } else {
                for w in ws {
                    terms.push(Term::Word {
                        word: w,
                        prefix: false,
                    });
                }
                last_is_bare_word = !in_phrase;
            }
        }
        // Prefix matching for the last word, unless it was quoted or finished.
        if last_is_bare_word
            && !finished
            && let Some(Term::Word { word, prefix }) = terms.last_mut()
            && word.chars().count() >= 2
        {
            *prefix = true;
        }
        if terms.is_empty() {
            return Err(Invalid::new(
                "no_words",
                "Search for at least one word: letters or digits, not only symbols.",
            ));
        }
        // Stop words narrow nothing; keep them only when there is nothing else.
        // (A word still being typed is kept: "best wha" may become "best whale".)
        let significant = |t: &Term| match t {
            Term::Word { word, .. } => !STOPWORDS.contains(&word.as_str()),
            Term::Phrase(_) => true,
        };
        if terms.iter().any(significant) {
            terms.retain(|t| significant(t) || matches!(t, Term::Word { prefix: true, .. }));
        }
        let mut seen = Vec::new();
        terms.retain(|t| {
            if seen.contains(t) {
                false
            } else {
                seen.push(t.clone());
                true
            }
        });
        terms.truncate(MAX_TERMS);
        Ok(SearchTerms { query, terms })
    }

    /// The text as typed (cleaned).
    pub fn as_str(&self) -> &str {
        self.query.as_str()
    }

    /// The validated query.
    pub fn query(&self) -> &SearchQuery {
        &self.query
    }

    /// The terms, in the order typed; never empty.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// A stable key of the terms (for caches): equal for queries that search the same.
    pub fn key(&self) -> String {
        let mut k = String::new();
        for t in &self.terms {
            if !k.is_empty() {
                k.push(' ');
            }
            match t {
                Term::Word { word, prefix } => {
                    k.push_str(word);
                    if *prefix {
                        k.push('*');
                    }
                }
                Term::Phrase(ws) => {
                    k.push('"');
                    k.push_str(&ws.join(" "));
                    k.push('"');
                }
            }
        }
        k
    }
}

string_enum! {
    /// Order of search results.
    SearchSort as "sort" { Relevance = "relevance", New = "new", Top = "top" }
}

impl SearchSort {
    /// Parses an optional query value; absent means relevance.
    pub fn from_query(v: Option<&str>) -> Result<SearchSort, Invalid> {
        v.map_or(Ok(SearchSort::Relevance), SearchSort::parse)
    }
}

string_enum! {
    /// Only open or only closed questions.
    StatusFilter as "status" { Open = "open", Closed = "closed" }
}

impl StatusFilter {
    /// Parses an optional query value; absent or empty means any.
    pub fn from_query(v: Option<&str>) -> Result<Option<StatusFilter>, Invalid> {
        match v.map(str::trim) {
            None | Some("") | Some("any") => Ok(None),
            Some(s) => StatusFilter::parse(s).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(s: &str) -> Vec<Term> {
        SearchTerms::parse(s).unwrap().unwrap().terms().to_vec()
    }

    fn word(w: &str, prefix: bool) -> Term {
        Term::Word {
            word: w.into(),
            prefix,
        }
    }

    #[test]
    fn words_are_folded() {
        assert_eq!(
            words("Ｃafé, TAX-free! 5G"),
            vec!["cafe", "tax", "free", "5g"]
        );
        assert_eq!(index_text("EU tax a"), "eu_ tax a__");
        assert_eq!(index_word("ü"), "ü__");
        // Accents go, composed or not, Greek and Cyrillic too.
        assert_eq!(
            words("Crème brûlée Ἀθῆναι й"),
            vec!["creme", "brulee", "αθηναι", "и"]
        );
        assert_eq!(words("cafe\u{301}"), vec!["cafe"]);
    }

    #[test]
    fn documents_fold_in_choices_and_tags() {
        let d = SearchDocument::new(
            "Should the EU tax kerosene?",
            Some("Airlines pay none."),
            ["Yes", "No"],
            ["climate-policy"],
        );
        assert_eq!(d.title, "should the eu_ tax kerosene");
        assert_eq!(d.body, "airlines pay none yes no_ climate policy");
    }

    #[test]
    fn the_last_word_is_a_prefix() {
        assert_eq!(terms("EU tax"), vec![word("eu", false), word("tax", true)]);
        assert_eq!(
            terms("EU tax "),
            vec![word("eu", false), word("tax", false)]
        );
        assert_eq!(terms("x"), vec![word("x", false)]);
    }

    #[test]
    fn quotes_make_phrases() {
        assert_eq!(
            terms("\"remote work\" policy"),
            vec![
                Term::Phrase(vec!["remote".into(), "work".into()]),
                word("policy", true)
            ]
        );
        assert_eq!(terms("\"tea\""), vec![word("tea", false)]);
        // An unclosed quote runs to the end.
        assert_eq!(
            terms("cats \u{201c}or dogs"),
            vec![
                word("cats", false),
                Term::Phrase(vec!["or".into(), "dogs".into()])
            ]
        );
    }

    #[test]
    fn stopwords_only_when_alone() {
        assert_eq!(
            terms("what is the best tea"),
            vec![word("best", false), word("tea", true)]
        );
        assert_eq!(
            terms("the who"),
            vec![word("the", false), word("who", true)]
        );
        assert_eq!(terms("to be or not"), vec![word("not", true)]);
    }

    #[test]
    fn bad_queries() {
        assert_eq!(SearchTerms::parse("   ").unwrap(), None);
        let e = SearchTerms::parse("+-*() ~<> \"\"").unwrap_err();
        assert_eq!(e.code, "no_words");
        assert!(SearchTerms::parse(&"q".repeat(10_000)).is_err());
        let many = (0..40)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            SearchTerms::parse(&many).unwrap().unwrap().terms().len(),
            MAX_TERMS
        );
        assert_eq!(
            terms("tea tea Tea"),
            vec![word("tea", false), word("tea", true)]
        );
    }

    #[test]
    fn keys() {
        let a = SearchTerms::parse("  EU   TAX").unwrap().unwrap();
        let b = SearchTerms::parse("eu tax").unwrap().unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), "eu tax*");
        assert_eq!(SearchSort::from_query(None).unwrap(), SearchSort::Relevance);
        assert!(SearchSort::from_query(Some("hot")).is_err());
        assert_eq!(StatusFilter::from_query(Some("")).unwrap(), None);
        assert!(StatusFilter::from_query(Some("pending")).is_err());
    }
}
