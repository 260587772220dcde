//! CSV downloads: RFC 4180 quoting, formula-injection neutralised, sent as an attachment.

use rocket::Request;
use rocket::http::{ContentType, Header};
use rocket::response::{self, Responder, Response};

/// One cell as CSV: a cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return,
/// which spreadsheets also read as formula starts) gets a leading `'`; cells with a comma,
/// quote or line break are quoted with inner quotes doubled.
pub fn cell(v: &str) -> String {
    let guarded = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A table as CSV text: the header, then one line per row (CRLF line ends).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV file download.
pub struct CsvFile {
    /// File name offered to the browser (ASCII letters, digits, `-`, `_`, `.` only).
    pub filename: String,
    /// The content.
    pub body: String,
}

impl<'r> Responder<'r, 'static> for CsvFile {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let name: String = self
            .filename
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        Response::build()
            .header(ContentType::new("text", "csv").with_params(("charset", "utf-8")))
            .header(Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            ))
            .sized_body(self.body.len(), std::io::Cursor::new(self.body))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=1+2"), "'=1+2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-3"), "'-3");
        assert_eq!(cell("+x,y"), "\"'+x,y\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(table(&["a", "b"], &[]), "a,b\r\n");
    }
}
