//! Progress of a running backup: every BACKUP_PROGRESS_INTERVAL a log line with the bytes so
//! far, the rate and the elapsed time; on a terminal with text logs, a live line instead.
//!
//! The copy loop only bumps an atomic counter once per batch; a separate task reads it, so
//! progress costs the hot path nothing measurable.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, Instrument as _};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A log line every so often.
    Log(Duration),
    /// A live line on the terminal (text logs on a TTY), redrawn every second.
    Live,
    Off,
}

impl Display {
    /// The display for this process: live only when stderr is a terminal and logs are text.
    pub fn choose(interval: Option<Duration>, text_logs: bool) -> Display {
        use std::io::IsTerminal as _;
        match interval {
            None => Display::Off,
            Some(_) if text_logs && std::io::stderr().is_terminal() => Display::Live,
            Some(every) => Display::Log(every),
        }
    }
}

/// Counts the bytes of one backup and reports them until dropped.
pub struct Progress {
    bytes: Arc<AtomicU64>,
    reporter: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub fn start(display: Display) -> Progress {
        let bytes = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let reporter = match display {
            Display::Off => None,
            Display::Log(every) => {
                let bytes = bytes.clone();
                let report = async move {
                    let mut tick =
                        tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                    loop {
                        tick.tick().await;
                        let (n, elapsed) = (bytes.load(Ordering::Relaxed), started.elapsed());
                        info!(
                            bytes = n,
                            rate = %rate(n, elapsed),
                            elapsed = %crate::durations::fmt_human(Duration::from_secs(elapsed.as_secs())),
                            "backup in progress: {} so far",
                            human_bytes(n)
                        );
                    }
                };
                // In the run's span: the lines carry its engine, database and backup_id.
                Some(tokio::spawn(report.in_current_span()))
            }
            Display::Live => {
                let bytes = bytes.clone();
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                crate::logging::set_live_line(Some(bar.clone()));
                Some(tokio::spawn(async move {
                    let _clear = ClearOnDrop(bar.clone());
                    let mut tick = tokio::time::interval(Duration::from_secs(1));
                    loop {
                        tick.tick().await;
                        let (n, elapsed) = (bytes.load(Ordering::Relaxed), started.elapsed());
                        bar.set_message(format!(
                            "{} streamed, {}, {}",
                            human_bytes(n),
                            rate(n, elapsed),
                            crate::durations::fmt_human(Duration::from_secs(
                                elapsed.as_secs().max(1)
                            ))
                        ));
                        bar.tick();
                    }
                }))
            }
        };
        Progress { bytes, reporter }
    }

    pub fn add(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(r) = self.reporter.take() {
            r.abort();
        }
        crate::logging::set_live_line(None);
    }
}

struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// `12.3 MiB/s`.
pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 0.001 {
        return "-".into();
    }
    format!("{}/s", human_bytes((bytes as f64 / secs) as u64))
}

/// `512 B`, `1.5 KiB`, `12.3 MiB`, `4.00 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.2} {}", UNITS[unit])
    } else if v < 100.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(300 * 1024 * 1024), "300 MiB");
        assert_eq!(human_bytes(u64::MAX), "16384 PiB");
        assert_eq!(rate(10 * 1024 * 1024, Duration::from_secs(2)), "5.00 MiB/s");
        assert_eq!(rate(5, Duration::ZERO), "-");
    }

    #[test]
    fn off_when_the_interval_is_zero() {
        assert_eq!(Display::choose(None, true), Display::Off);
        // Tests never run with stderr on a terminal that we could rely on; a pipe gives Log.
        let every = Duration::from_secs(5);
        assert!(matches!(Display::choose(Some(every), false), Display::Log(d) if d == every));
    }
}
