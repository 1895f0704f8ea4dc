//! Durations as a user reads them: `1h30m` in messages and settings summaries, `1.250s` in
//! timings. A bottom module: configuration, progress lines and the rclone layer all use it.

use std::time::Duration;

/// `1h30m`, `2s`, `1500ms`: how a user would have written it.
pub fn fmt_human(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (d.as_secs() / 3600, d.as_secs() / 60 % 60, d.as_secs() % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// Seconds with milliseconds, for timings: `1.250s`.
pub fn fmt_duration(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}
