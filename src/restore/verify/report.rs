//! The report of `verify`: one line per check (ok, FAIL or skipped), rendered as a table with
//! the verdict.

use std::fmt::Write as _;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Failed,
    /// Not run (a tool that is not installed, a compression dbstash cannot read): said so,
    /// and not a failure.
    Skipped,
}

impl Mark {
    fn as_str(self) -> &'static str {
        match self {
            Mark::Ok => "ok",
            Mark::Failed => "FAIL",
            Mark::Skipped => "skipped",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub check: String,
    pub mark: Mark,
    pub text: String,
}

impl Line {
    pub(in crate::restore) fn new(
        check: impl Into<String>,
        mark: Mark,
        text: impl Into<String>,
    ) -> Line {
        Line {
            check: check.into(),
            mark,
            text: crate::redact::redact(&text.into()),
        }
    }
}

/// Whether every check passed (or was skipped).
pub fn passed(lines: &[Line]) -> bool {
    lines.iter().all(|l| l.mark != Mark::Failed)
}

/// `check  ok  detail`, one per line (continuations indented), then the verdict.
pub fn render(lines: &[Line]) -> String {
    // At least 20 columns for the check's name, and always two spaces after it.
    let width = lines
        .iter()
        .map(|l| l.check.chars().count() + 2)
        .max()
        .unwrap_or(0)
        .max(20);
    let indent = " ".repeat(width + 8);
    let mut out = String::new();
    for l in lines {
        let mut text = l.text.lines();
        let _ = writeln!(
            out,
            "{:<width$}{:<8}{}",
            l.check,
            l.mark.as_str(),
            text.next().unwrap_or_default()
        );
        for t in text {
            let _ = writeln!(out, "{indent}{}", t.trim_start());
        }
    }
    let failed: Vec<&str> = lines
        .iter()
        .filter(|l| l.mark == Mark::Failed)
        .map(|l| l.check.as_str())
        .collect();
    if failed.is_empty() {
        out.push_str("verify passed\n");
    } else {
        let _ = writeln!(out, "verify failed: {}", failed.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_has_one_line_per_check_and_a_verdict() {
        let lines = [
            Line::new(
                "checksum",
                Mark::Ok,
                "SHA-256 ab matches x.sha256 (3 bytes)",
            ),
            Line::new("redis-check-rdb", Mark::Skipped, "not on PATH\nsecond line"),
        ];
        assert!(passed(&lines));
        assert_eq!(
            render(&lines),
            "checksum            ok      SHA-256 ab matches x.sha256 (3 bytes)\n\
             redis-check-rdb     skipped not on PATH\n\
             \x20                           second line\n\
             verify passed\n"
        );
        let long = [
            Line::new("pg_restore --file=/dev/null", Mark::Ok, "reads"),
            Line::new("checksum", Mark::Ok, "matches"),
        ];
        assert_eq!(
            render(&long),
            "pg_restore --file=/dev/null  ok      reads\n\
             checksum                     ok      matches\n\
             verify passed\n"
        );
        let failed = [Line::new("trailer", Mark::Failed, "missing")];
        assert!(!passed(&failed));
        assert!(render(&failed).ends_with("verify failed: trailer\n"));
    }
}
