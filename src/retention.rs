//! Which backups to delete: a pure function of the folder listing, the policy and the clock.
//!
//! Only names the caller recognises as this config's backups are candidates (the template
//! matcher), and the backup just made is never selected, even if the listing missed it.
//! Incomplete backups (no checksum sidecar) do not take `max_files` places: a pile of
//! truncated leftovers must never push out the good backups. They expire by age only.
//!
//! With calendar rules (`RETENTION_KEEP_*`, never together with the two caps) only complete
//! backups are candidates: the rules of [`crate::calendar`] decide among them and the new
//! backup (counted at `now`, so it takes its period), and incomplete ones are left alone.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::config::RetentionPolicy;
pub use crate::remote::Entry;

/// What retention says of one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub name: String,
    pub mod_time: DateTime<Utc>,
    pub complete: bool,
    pub keep: bool,
    /// Why, for `prune` and logs: the rules that keep it, or what expires it.
    pub why: String,
}

/// The backup just written (never a candidate, but it takes a `max_files` place and its
/// calendar period), or none (`prune`: then the newest complete backup is never deleted).
#[derive(Debug, Clone, Copy)]
pub enum Current<'a> {
    Written(&'a str),
    None,
}

/// Names to delete after a backup, oldest first.
pub fn select_expired(
    listing: &[Entry],
    is_backup: impl Fn(&str) -> bool,
    is_complete: impl Fn(&str) -> bool,
    current: &str,
    policy: RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut expired: Vec<String> = decide(
        listing,
        is_backup,
        is_complete,
        Current::Written(current),
        policy,
        tz,
        now,
    )
    .into_iter()
    .filter(|v| !v.keep)
    .map(|v| v.name)
    .collect();
    expired.reverse();
    expired
}

/// Every candidate (this configuration's backups but the current one), newest first, with
/// the verdict of `policy`. With no rule set everything is kept.
pub fn decide(
    listing: &[Entry],
    is_backup: impl Fn(&str) -> bool,
    is_complete: impl Fn(&str) -> bool,
    current: Current<'_>,
    policy: RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<Verdict> {
    // Newest first; the name breaks ties so the order never depends on the listing's.
    let mut others: Vec<&Entry> = listing
        .iter()
        .filter(|e| !matches!(current, Current::Written(c) if c == e.name) && is_backup(&e.name))
        .collect();
    others.sort_by(|a, b| {
        b.mod_time
            .cmp(&a.mod_time)
            .then_with(|| b.name.cmp(&a.name))
    });
    let mut verdicts: Vec<Verdict> = others
        .iter()
        .map(|e| Verdict {
            name: e.name.clone(),
            mod_time: e.mod_time,
            complete: is_complete(&e.name),
            keep: true,
            why: String::new(),
        })
        .collect();
    if !policy.keep.is_empty() {
        by_calendar(&mut verdicts, current, policy, tz, now);
    } else if policy.max_files > 0 || policy.max_days > 0 {
        by_caps(&mut verdicts, current, policy, now);
    } else {
        for v in &mut verdicts {
            v.why = "retention is off".into();
        }
    }
    if matches!(current, Current::None) {
        // No new backup stands behind the others: the newest complete one stays.
        if let Some(v) = verdicts.iter_mut().find(|v| v.complete) {
            if !v.keep {
                v.keep = true;
                v.why = format!("the newest complete backup is never deleted ({})", v.why);
            }
        }
    }
    verdicts
}

/// RETENTION_MAX_FILES and RETENTION_MAX_DAYS over `newest_first`.
fn by_caps(
    newest_first: &mut [Verdict],
    current: Current<'_>,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
) {
    // Checked: a cutoff before the earliest representable date means nothing is that old.
    let cutoff = (policy.max_days > 0)
        .then(|| {
            Duration::try_days(i64::from(policy.max_days)).and_then(|d| now.checked_sub_signed(d))
        })
        .flatten();
    // The current backup takes one of the max_files places.
    let taken = usize::from(matches!(current, Current::Written(_)));
    let places = (policy.max_files > 0).then(|| {
        usize::try_from(policy.max_files)
            .unwrap_or(usize::MAX)
            .saturating_sub(taken)
    });
    let mut complete_seen = 0usize;
    for v in newest_first.iter_mut() {
        let too_old = cutoff.is_some_and(|c| v.mod_time < c);
        let mut reasons = Vec::new();
        if too_old {
            reasons.push(format!("older than RETENTION_MAX_DAYS={}", policy.max_days));
        }
        if v.complete {
            complete_seen += 1;
            if places.is_some_and(|k| complete_seen > k) {
                reasons.push(format!(
                    "beyond the newest RETENTION_MAX_FILES={} complete backups",
                    policy.max_files
                ));
            }
        }
        v.keep = reasons.is_empty();
        v.why = if !v.keep {
            reasons.join(", ")
        } else if !v.complete {
            "incomplete: expires by age only".into()
        } else if policy.max_files > 0 {
            format!(
                "complete backup {} of at most {}",
                complete_seen + taken,
                policy.max_files
            )
        } else {
            format!("newer than RETENTION_MAX_DAYS={}", policy.max_days)
        };
    }
}

/// The calendar rules over the complete backups (and the new one, first, at `now`).
fn by_calendar(
    newest_first: &mut [Verdict],
    current: Current<'_>,
    policy: RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) {
    let complete: Vec<usize> = (0..newest_first.len())
        .filter(|&i| newest_first[i].complete)
        .collect();
    let offset = usize::from(matches!(current, Current::Written(_)));
    let mut times = Vec::with_capacity(complete.len() + offset);
    if offset == 1 {
        times.push(now);
    }
    times.extend(complete.iter().map(|&i| newest_first[i].mod_time));
    let decided = crate::calendar::decide(&times, tz, &policy.keep, now);
    for v in newest_first.iter_mut().filter(|v| !v.complete) {
        v.why = "incomplete: not a candidate of the calendar rules".into();
    }
    for (&i, reasons) in complete.iter().zip(&decided[offset..]) {
        let v = &mut newest_first[i];
        v.keep = !reasons.is_empty();
        v.why = if v.keep {
            let names: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
            format!("kept by {}", names.join(", "))
        } else {
            format!("no rule keeps it ({})", policy.keep.describe())
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 10, 12, 0, 0).unwrap()
    }

    /// One backup a day, `ages` in days, named by age so assertions read easily.
    fn listing(ages: &[i64]) -> Vec<Entry> {
        ages.iter()
            .map(|d| Entry {
                name: format!("app-{d}d.sql"),
                mod_time: now() - Duration::days(*d) - Duration::minutes(1),
            })
            .collect()
    }

    fn is_backup(n: &str) -> bool {
        n.starts_with("app-") && n.ends_with(".sql")
    }

    fn policy(max_files: u32, max_days: u32) -> RetentionPolicy {
        RetentionPolicy {
            keep: Default::default(),
            max_files,
            max_days,
        }
    }

    #[test]
    fn table() {
        struct Case {
            what: &'static str,
            ages: &'static [i64],
            policy: RetentionPolicy,
            expect: &'static [&'static str],
        }
        let cases = [
            Case {
                what: "unlimited keeps all",
                ages: &[0, 1, 2, 30],
                policy: policy(0, 0),
                expect: &[],
            },
            Case {
                what: "max files keeps newest",
                ages: &[0, 1, 2, 3],
                policy: policy(2, 0),
                expect: &["app-3d.sql", "app-2d.sql"],
            },
            Case {
                what: "max files 1 keeps only current",
                ages: &[0, 1, 2],
                policy: policy(1, 0),
                expect: &["app-2d.sql", "app-1d.sql"],
            },
            Case {
                what: "max files above count",
                ages: &[0, 1],
                policy: policy(5, 0),
                expect: &[],
            },
            Case {
                what: "max days",
                ages: &[0, 1, 7, 8, 40],
                policy: policy(0, 7),
                expect: &["app-40d.sql", "app-8d.sql", "app-7d.sql"],
            },
            Case {
                what: "both: union",
                ages: &[0, 1, 2, 9],
                policy: policy(3, 5),
                expect: &["app-9d.sql"],
            },
            Case {
                what: "both: files stricter",
                ages: &[0, 1, 2, 3],
                policy: policy(2, 30),
                expect: &["app-3d.sql", "app-2d.sql"],
            },
        ];
        for c in cases {
            let got = select_expired(
                &listing(c.ages),
                is_backup,
                |_| true,
                "app-0d.sql",
                c.policy,
                Tz::UTC,
                now(),
            );
            assert_eq!(got, c.expect, "{}", c.what);
        }
    }

    #[test]
    fn never_deletes_the_current_backup_even_when_old_looking() {
        // Clock skew: the fresh upload's mtime looks 100 days old.
        let l = listing(&[100, 1]);
        let got = select_expired(
            &l,
            is_backup,
            |_| true,
            "app-100d.sql",
            policy(1, 7),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-1d.sql"]);
    }

    #[test]
    fn current_counts_even_if_listing_missed_it() {
        let l = listing(&[1, 2]);
        let got = select_expired(
            &l,
            is_backup,
            |_| true,
            "app-0d.sql",
            policy(2, 0),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-2d.sql"]);
    }

    #[test]
    fn foreign_files_are_never_candidates() {
        let mut l = listing(&[0, 1, 2]);
        for name in [
            "notes.txt",
            "app-1d.sql.sha256",
            "other-5d.sql",
            "app-9d.sql.bak",
        ] {
            l.push(Entry {
                name: name.into(),
                mod_time: now() - Duration::days(500),
            });
        }
        let got = select_expired(
            &l,
            is_backup,
            |_| true,
            "app-0d.sql",
            policy(1, 1),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-2d.sql", "app-1d.sql"]);
    }

    #[test]
    fn incomplete_backups_take_no_places_and_expire_by_age_only() {
        let l = listing(&[1, 2, 3, 4, 20]);
        // 1d and 2d lack their sidecars (truncated leftovers).
        let complete = |n: &str| !["app-1d.sql", "app-2d.sql"].contains(&n);
        let got = select_expired(
            &l,
            is_backup,
            complete,
            "app-0d.sql",
            policy(3, 0),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-20d.sql"], "3 places: current, 3d, 4d");
        let got = select_expired(
            &l,
            is_backup,
            complete,
            "app-0d.sql",
            policy(3, 2),
            Tz::UTC,
            now(),
        );
        assert_eq!(
            got,
            ["app-20d.sql", "app-4d.sql", "app-3d.sql", "app-2d.sql"]
        );
    }

    #[test]
    fn any_policy_and_clock_is_safe() {
        // Far beyond what configuration accepts, at both ends of chrono's calendar: a
        // cutoff before the first representable date expires nothing.
        let old = Entry {
            name: "app-old.sql".into(),
            mod_time: DateTime::<Utc>::MIN_UTC,
        };
        for now in [DateTime::<Utc>::MIN_UTC, now(), DateTime::<Utc>::MAX_UTC] {
            let got = select_expired(
                std::slice::from_ref(&old),
                is_backup,
                |_| true,
                "app-0d.sql",
                policy(u32::MAX, u32::MAX),
                Tz::UTC,
                now,
            );
            assert!(got.is_empty(), "{now}: {got:?}");
            // Calendar rules at the calendar's ends, in zones on both sides of UTC.
            for tz in [Tz::UTC, Tz::Pacific__Kiritimati, Tz::Pacific__Pago_Pago] {
                let newest = Entry {
                    name: "app-new.sql".into(),
                    mod_time: DateTime::<Utc>::MAX_UTC,
                };
                let both = [old.clone(), newest];
                let keep = crate::config::KeepRules {
                    last: 1,
                    hourly: 1,
                    daily: 1,
                    weekly: 1,
                    monthly: 1,
                    yearly: 1,
                };
                let got = select_expired(
                    &both,
                    is_backup,
                    |_| true,
                    "app-0d.sql",
                    calendar(keep),
                    tz,
                    now,
                );
                assert!(got.len() <= 2, "{now} {tz}: {got:?}");
            }
        }
        let got = select_expired(
            std::slice::from_ref(&old),
            is_backup,
            |_| true,
            "app-0d.sql",
            policy(0, 97_000_000),
            Tz::UTC,
            now(),
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn equal_times_break_ties_by_name() {
        let t = now() - Duration::hours(1);
        let l: Vec<Entry> = ["app-a.sql", "app-c.sql", "app-b.sql"]
            .into_iter()
            .map(|n| Entry {
                name: n.into(),
                mod_time: t,
            })
            .collect();
        let got = select_expired(
            &l,
            is_backup,
            |_| true,
            "app-z.sql",
            policy(2, 0),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-a.sql", "app-b.sql"]);
    }

    fn calendar(keep: crate::config::KeepRules) -> RetentionPolicy {
        RetentionPolicy {
            keep,
            ..Default::default()
        }
    }

    /// The new backup takes its period; only complete backups are candidates; the newest
    /// other complete one survives `last: 2`; foreign and incomplete names are left alone.
    #[test]
    fn calendar_rules_decide_among_complete_backups_only() {
        let mut l = listing(&[1, 2, 3, 40]);
        l.push(Entry {
            name: "other-5d.sql".into(),
            mod_time: now() - Duration::days(5),
        });
        let incomplete = |n: &str| n != "app-2d.sql";
        let keep = crate::config::KeepRules {
            last: 2,
            ..Default::default()
        };
        let got = select_expired(
            &l,
            is_backup,
            incomplete,
            "app-0d.sql",
            calendar(keep),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-40d.sql", "app-3d.sql"]);

        // daily 3: today (the new one), 1 and 3 days ago; 40 days ago goes. The incomplete
        // 2-day-old one is no candidate and takes no day.
        let keep = crate::config::KeepRules {
            daily: 3,
            ..Default::default()
        };
        let got = select_expired(
            &l,
            is_backup,
            incomplete,
            "app-0d.sql",
            calendar(keep),
            Tz::UTC,
            now(),
        );
        assert_eq!(got, ["app-40d.sql"]);

        // monthly 1: the new backup is February's; the count is used up, so every other
        // complete backup goes (January's too: no count is left for the oldest).
        let keep = crate::config::KeepRules {
            monthly: 1,
            ..Default::default()
        };
        let got = select_expired(
            &l,
            is_backup,
            |_| true,
            "app-0d.sql",
            calendar(keep),
            Tz::UTC,
            now(),
        );
        assert_eq!(
            got,
            ["app-40d.sql", "app-3d.sql", "app-2d.sql", "app-1d.sql"]
        );

        // The current backup is never returned, even when listed.
        let got = select_expired(
            &l,
            is_backup,
            |_| true,
            "app-1d.sql",
            calendar(keep),
            Tz::UTC,
            now(),
        );
        assert!(!got.contains(&"app-1d.sql".to_string()), "{got:?}");
    }
}
