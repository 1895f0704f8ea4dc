//! Log lines on stderr, as text or JSON, flat: the fields of the enclosing spans (engine,
//! database, backup_id) are written on every line beside the event's own fields, so a log
//! aggregator can filter on them without unnesting.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::LogFormat;

/// The live progress line, while one is drawn (see `progress`): log lines go above it.
static LIVE_LINE: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

pub fn set_live_line(bar: Option<indicatif::ProgressBar>) {
    if let Ok(mut l) = LIVE_LINE.lock() {
        *l = bar;
    }
}

/// One text record: `time level message key=value ...` on the first line; a value spanning
/// several lines (a tool's error output) follows as its own indented block, so it reads as
/// it was written and no continuation line can pass for a record of its own.
fn text_line(time: &str, level: &str, message: &str, fields: Vec<(String, Value)>) -> String {
    let mut s = format!("{time} {level:>5} {}", one_line(message));
    let mut blocks = Vec::new();
    for (k, v) in fields {
        let v = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        if v.trim_end().contains('\n') {
            blocks.push((k, v));
        } else if v.is_empty()
            || v.contains(|c: char| c.is_whitespace() || c.is_control() || c == '"' || c == '=')
        {
            let _ = write!(s, " {k}={v:?}");
        } else {
            let _ = write!(s, " {k}={v}");
        }
    }
    for (k, v) in blocks {
        let _ = write!(s, " {k}=|");
        for line in v.trim_end().lines() {
            let _ = write!(s, "\n    {}", escape_controls(line));
        }
    }
    s
}

/// A message never spans lines: newlines (and other controls) are escaped.
fn one_line(message: &str) -> String {
    if message.contains(|c: char| c.is_control()) {
        message.escape_debug().to_string()
    } else {
        message.to_string()
    }
}

/// Inside an indented block, tabs stay (tools indent with them); other controls (escape
/// sequences, carriage returns) are shown escaped.
fn escape_controls(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '\t' => "    ".to_string(),
            c if c.is_control() => c.escape_debug().to_string(),
            c => c.to_string(),
        })
        .collect()
}

pub fn init(level: tracing::Level, format: LogFormat) {
    let subscriber = tracing_subscriber::registry()
        .with(LineLayer { format }.with_filter(LevelFilter::from_level(level)));
    // Only fails if a subscriber is already set (tests); the first one stays.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct LineLayer {
    format: LogFormat,
}

/// Fields recorded on a span, kept in its extensions.
struct SpanFields(Vec<(String, Value)>);

#[derive(Default)]
struct Collect(Vec<(String, Value)>);

impl Collect {
    fn put(&mut self, field: &Field, v: Value) {
        self.0.push((field.name().to_string(), v));
    }
}

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(format!("{value:#}")));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

impl<S> Layer<S> for LineLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut c = Collect::default();
        attrs.record(&mut c);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(c.0));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let mut c = Collect::default();
        values.record(&mut c);
        if let Some(span) = ctx.span(id) {
            if let Some(f) = span.extensions_mut().get_mut::<SpanFields>() {
                f.0.extend(c.0);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields: Vec<(String, Value)> = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    fields.extend(f.0.iter().cloned());
                }
            }
        }
        let mut own = Collect::default();
        event.record(&mut own);
        let mut message = String::new();
        for (k, v) in own.0 {
            if k == "message" {
                message = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
            } else {
                fields.push((k, v));
            }
        }
        // Secrets are replaced in the values themselves, before a format escapes them (a `"`
        // or `\` in a password reads `\"` or `\\` in both formats), and without touching the
        // record's own structure (keys such as `backup_id`, whatever the password is).
        let message = crate::redact::redact(&message);
        for (_, v) in fields.iter_mut() {
            if let Value::String(s) = v {
                *s = crate::redact::redact(s);
            }
        }
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        let line = match self.format {
            LogFormat::Json => {
                let mut obj = Map::new();
                obj.insert("timestamp".into(), Value::from(time));
                obj.insert("level".into(), Value::from(level));
                obj.insert("message".into(), Value::from(message));
                for (k, v) in fields {
                    obj.insert(k, v);
                }
                Value::Object(obj).to_string()
            }
            LogFormat::Text => text_line(&time, &level, &message, fields),
        };
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        };
        match LIVE_LINE.lock().ok().and_then(|l| l.clone()) {
            // A live progress line is on the terminal: move it out of the way, then back.
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_values_become_indented_blocks_after_the_fields() {
        let line = text_line(
            "T",
            "error",
            "backup failed",
            vec![
                ("error".into(), Value::from("pg_dump exited with status 1: pg_dump: error: connection failed\n\tIs the server running?\n")),
                ("database".into(), Value::from("app")),
                ("note".into(), Value::from("two words")),
            ],
        );
        assert_eq!(
            line,
            "T error backup failed database=app note=\"two words\" error=|\n    pg_dump exited with status 1: pg_dump: error: connection failed\n        Is the server running?"
        );
        for continuation in line.lines().skip(1) {
            assert!(continuation.starts_with("    "), "{continuation:?}");
        }
    }

    #[test]
    fn nothing_can_forge_a_record() {
        let line = text_line(
            "T",
            "info",
            "hook says\n2026-01-01T00:00:00Z error forged",
            vec![("x".into(), Value::from("a\r\u{1b}[2Jb"))],
        );
        assert_eq!(line.lines().count(), 1, "{line}");
        let block = text_line(
            "T",
            "info",
            "m",
            vec![("e".into(), Value::from("one\n2026 error forged\u{1b}[31m"))],
        );
        assert!(
            block.lines().skip(1).all(|l| l.starts_with("    ")),
            "{block}"
        );
        assert!(!block.contains('\u{1b}'), "{block}");
    }
}
