//! Deleting one's account: what becomes of the member's questions, and who may not leave.

use super::Invalid;

/// What becomes of a deleted member's questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionsAfter {
    /// They stay, shown as by "[deleted]" (the author is removed from them).
    Keep,
    /// They go, as the author's own Delete does it.
    Delete,
}

impl QuestionsAfter {
    /// Parses the form's `questions` field: `keep` or `delete`.
    pub fn parse(s: &str) -> Result<QuestionsAfter, Invalid> {
        match s.trim() {
            "keep" => Ok(QuestionsAfter::Keep),
            "delete" => Ok(QuestionsAfter::Delete),
            _ => Err(Invalid::new(
                "invalid_questions",
                "Choose whether your questions stay (shown as by \"[deleted]\") or are deleted.",
            )),
        }
    }

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionsAfter::Keep => "keep",
            QuestionsAfter::Delete => "delete",
        }
    }
}

/// Why an account may not be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeletionRefusal {
    /// The only admin left: the site would have nobody to moderate it.
    #[error(
        "You are the only admin: make another member an admin (beebeta create-admin) before deleting your account."
    )]
    LastAdmin,
}

/// Whether an account may be deleted: anyone but the last admin (`other_admins` counts the
/// admins besides this account that are not banned).
pub fn check_deletion(is_admin: bool, other_admins: i64) -> Result<(), DeletionRefusal> {
    if is_admin && other_admins < 1 {
        return Err(DeletionRefusal::LastAdmin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_field_parses_keep_or_delete_only() {
        assert_eq!(QuestionsAfter::parse("keep"), Ok(QuestionsAfter::Keep));
        assert_eq!(
            QuestionsAfter::parse(" delete "),
            Ok(QuestionsAfter::Delete)
        );
        for bad in ["", "KEEP", "drop", "keep,delete"] {
            assert!(QuestionsAfter::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(QuestionsAfter::Delete.as_str(), "delete");
    }

    #[test]
    fn only_the_last_admin_must_stay() {
        assert_eq!(check_deletion(false, 0), Ok(()));
        assert_eq!(check_deletion(true, 1), Ok(()));
        assert_eq!(check_deletion(true, 0), Err(DeletionRefusal::LastAdmin));
    }
}
