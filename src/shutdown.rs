//! What ends a run early: SIGTERM/SIGINT ([`Shutdown`]) and the deadline of BACKUP_TIMEOUT
//! ([`Cancel`]). Backups, `list`, `verify` and `restore` all stop through it.

use std::time::Duration;

use anyhow::Context as _;

use crate::durations::fmt_human;

/// What ends a run early: a signal, or the deadline of BACKUP_TIMEOUT.
pub struct Cancel<'a> {
    pub(crate) shutdown: &'a mut Shutdown,
    pub(crate) deadline: Option<(tokio::time::Instant, Duration)>,
}

impl<'a> Cancel<'a> {
    /// Signals from `shutdown`, and a deadline `timeout` from now (BACKUP_TIMEOUT), for
    /// everything guarded with it: `list`, `verify` and `restore` stop the way backups do.
    pub fn new(shutdown: &'a mut Shutdown, timeout: Option<Duration>) -> Cancel<'a> {
        Cancel {
            shutdown,
            deadline: timeout.map(|t| (tokio::time::Instant::now() + t, t)),
        }
    }

    /// Run `fut` unless cancelled first; cancelling drops it (and so kills its children).
    pub async fn guard<T>(
        &mut self,
        fut: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let deadline = self.deadline;
        let timeout = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            sig = self.shutdown.recv() => Err(anyhow::anyhow!("interrupted by {sig}")),
            _ = timeout => Err(anyhow::anyhow!(
                "timed out after {} (BACKUP_TIMEOUT)",
                fmt_human(deadline.map(|(_, d)| d).unwrap_or_default())
            )),
            r = fut => r,
        }
    }
}

/// SIGTERM and SIGINT, as a stream of events. Once created, these signals no longer kill
/// dbstash outright: whoever holds it decides (stop a backup and clean up, or exit).
pub struct Shutdown {
    source: Source,
    pub received: Option<&'static str>,
}

enum Source {
    Signals {
        term: tokio::signal::unix::Signal,
        int: tokio::signal::unix::Signal,
    },
    /// The signals another [`Shutdown`] received, passed on with [`Shutdown::relay`]: each
    /// database of a split run stops and cleans up on its own.
    Follow(tokio::sync::watch::Receiver<Option<&'static str>>),
}

/// Passes the signal one [`Shutdown`] received on to its followers.
pub struct Relay(tokio::sync::watch::Sender<Option<&'static str>>);

impl Relay {
    pub fn new() -> Relay {
        Relay(tokio::sync::watch::channel(None).0)
    }

    /// A [`Shutdown`] that receives what is [`Relay::send`]: one per concurrent task.
    pub fn follower(&self) -> Shutdown {
        Shutdown {
            source: Source::Follow(self.0.subscribe()),
            received: None,
        }
    }

    pub fn send(&self, sig: &'static str) {
        self.0.send_replace(Some(sig));
    }
}

impl Default for Relay {
    fn default() -> Relay {
        Relay::new()
    }
}

impl Shutdown {
    pub fn new() -> anyhow::Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Shutdown {
            source: Source::Signals {
                term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
                int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            },
            received: None,
        })
    }

    /// The name of the next signal received.
    pub async fn recv(&mut self) -> &'static str {
        if let Some(sig) = self.received {
            return sig;
        }
        let sig = match &mut self.source {
            Source::Signals { term, int } => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            Source::Follow(rx) => loop {
                if let Some(sig) = *rx.borrow_and_update() {
                    break sig;
                }
                if rx.changed().await.is_err() {
                    // The relay is gone: no signal will come.
                    std::future::pending::<()>().await;
                }
            },
        };
        self.received = Some(sig);
        sig
    }
}
