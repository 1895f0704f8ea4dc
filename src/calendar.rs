//! Calendar retention (grandfather-father-son) with restic's `forget --keep-*` semantics.
//!
//! Backups are taken newest first. Each rule with a count N keeps the newest backup of each
//! period (hour, day, ISO week, month, year in `TZ`; for `last`, each backup) until it has kept
//! N, so N counts periods that *have* a backup, not calendar periods. A backup is kept when
//! any rule keeps it. As in restic (0.16 and later), a rule that still has counts left when
//! the list runs out also keeps the oldest backup, so a short history is kept whole rather than
//! cut at the wrong end. Backups dated in the future are never deleted and use up no period.
//!
//! Pure: the caller decides which backups are candidates (only complete backups of this
//! configuration) and never deletes the newest whatever the rules say.

use chrono::{DateTime, Datelike as _, Timelike as _, Utc};
use chrono_tz::Tz;

pub use crate::config::KeepRules;

impl KeepRules {
    fn counts(&self) -> [(Rule, u32); 6] {
        [
            (Rule::Last, self.last),
            (Rule::Hourly, self.hourly),
            (Rule::Daily, self.daily),
            (Rule::Weekly, self.weekly),
            (Rule::Monthly, self.monthly),
            (Rule::Yearly, self.yearly),
        ]
    }

    /// `last 3, daily 7, weekly 4`: the rules in effect, for logs and dry runs.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .counts()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{} {n}", r.name()))
            .collect();
        parts.join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Last,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Last => "last",
            Rule::Hourly => "hourly",
            Rule::Daily => "daily",
            Rule::Weekly => "weekly",
            Rule::Monthly => "monthly",
            Rule::Yearly => "yearly",
        }
    }

    /// The period `t` falls in, as one comparable number (`nr` makes each backup its own
    /// period for `last`).
    fn period(self, t: DateTime<Tz>, nr: usize) -> i64 {
        let (y, m, d, h) = (
            i64::from(t.year()),
            i64::from(t.month()),
            i64::from(t.day()),
            i64::from(t.hour()),
        );
        match self {
            Rule::Last => nr as i64,
            Rule::Hourly => ((y * 100 + m) * 100 + d) * 100 + h,
            Rule::Daily => (y * 100 + m) * 100 + d,
            Rule::Weekly => {
                let w = t.iso_week();
                i64::from(w.year()) * 100 + i64::from(w.week())
            }
            Rule::Monthly => y * 100 + m,
            Rule::Yearly => y,
        }
    }
}

/// Why a backup is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The newest backup of one of the rule's periods.
    Rule(Rule),
    /// The oldest backup, kept because the rule had counts left.
    Oldest(Rule),
    /// Dated after `now`: never deleted, never counted.
    Future,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Rule(r) => write!(f, "{}", r.name()),
            Reason::Oldest(r) => write!(f, "oldest {}", r.name()),
            Reason::Future => f.write_str("dated in the future"),
        }
    }
}

/// For each of `times` (in any order), the reasons it is kept; an empty list means the rules
/// delete it. With no rule set everything is kept (by no reason: callers check
/// [`KeepRules::is_empty`] first).
pub fn decide(
    times: &[DateTime<Utc>],
    tz: Tz,
    rules: &KeepRules,
    now: DateTime<Utc>,
) -> Vec<Vec<Reason>> {
    let mut out = vec![Vec::new(); times.len()];
    // Newest first; equal times keep their input order.
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[b].cmp(&times[a]));
    let (future, past): (Vec<usize>, Vec<usize>) = order.into_iter().partition(|&i| times[i] > now);
    for i in future {
        out[i].push(Reason::Future);
    }
    let mut buckets: Vec<(Rule, u32, Option<i64>)> = rules
        .counts()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(r, n)| (r, n, None))
        .collect();
    let oldest = past.len().checked_sub(1);
    for (nr, &i) in past.iter().enumerate() {
        let local = times[i].with_timezone(&tz);
        for (rule, left, last) in buckets.iter_mut() {
            if *left == 0 {
                continue;
            }
            let period = rule.period(local, nr);
            if *last != Some(period) {
                out[i].push(Reason::Rule(*rule));
            } else if Some(nr) == oldest {
                out[i].push(Reason::Oldest(*rule));
            } else {
                continue;
            }
            *last = Some(period);
            *left -= 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2030-01-01T00:00:00Z";

    /// The indices of `times` the rules keep, in input order.
    fn kept(times: &[DateTime<Utc>], tz: Tz, rules: KeepRules) -> Vec<usize> {
        decide(times, tz, &rules, utc(NOW))
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .map(|(i, _)| i)
            .collect()
    }

    /// restic's documentation ("Removing snapshots according to a policy"): one backup every
    /// Sunday for 12 weeks; `--keep-daily 4` keeps the last four Sundays.
    #[test]
    fn restic_documented_sundays() {
        let times: Vec<_> = [
            "2019-09-01",
            "2019-09-08",
            "2019-09-15",
            "2019-09-22",
            "2019-09-29",
            "2019-10-06",
            "2019-10-13",
            "2019-10-20",
            "2019-10-27",
            "2019-11-03",
            "2019-11-10",
            "2019-11-17",
        ]
        .iter()
        .map(|d| utc(&format!("{d}T11:00:00Z")))
        .collect();
        let rules = KeepRules {
            daily: 4,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, rules), [8, 9, 10, 11]);
        // Weekly 4 is the same four; monthly 2: the newest of November and of October.
        let weekly = KeepRules {
            weekly: 4,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, weekly), [8, 9, 10, 11]);
        let monthly = KeepRules {
            monthly: 2,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, monthly), [8, 11]);
    }

    /// restic's documentation: daily backups; `--keep-daily 7 --keep-weekly 5 --keep-monthly 12
    /// --keep-yearly 75` keeps 7 dailies, 4 more weeklies (the dailies hold one), 12 or 11
    /// month-ends and 75 or 74 year-ends.
    #[test]
    fn restic_documented_daily_for_years() {
        let start = Utc.with_ymd_and_hms(1950, 1, 1, 3, 0, 0).unwrap();
        let times: Vec<_> = (0..(80 * 366))
            .map(|d| start + chrono::Duration::days(d))
            .filter(|t| *t < utc("2029-12-30T12:00:00Z"))
            .collect();
        let rules = KeepRules {
            daily: 7,
            weekly: 5,
            monthly: 12,
            yearly: 75,
            ..Default::default()
        };
        let decided = decide(&times, Tz::UTC, &rules, utc(NOW));
        let count = |r: Rule| {
            decided
                .iter()
                .filter(|rs| rs.contains(&Reason::Rule(r)))
                .count()
        };
        assert_eq!(count(Rule::Daily), 7);
        assert_eq!(count(Rule::Weekly), 5);
        assert_eq!(count(Rule::Monthly), 12);
        assert_eq!(count(Rule::Yearly), 75);
        let total = decided.iter().filter(|r| !r.is_empty()).count();
        // 7 dailies; weeklies add 4; monthlies add 11 or 12; yearlies add 74 or 75.
        assert!(
            (7 + 4 + 11 + 74..=7 + 4 + 12 + 75).contains(&total),
            "{total}"
        );
        // The newest backup is kept, and every yearly one is the year's last.
        assert!(!decided.last().unwrap().is_empty());
        for (t, rs) in times.iter().zip(&decided) {
            if rs.contains(&Reason::Rule(Rule::Yearly)) && t.year() < 2029 {
                assert_eq!((t.month(), t.day()), (12, 31), "{t}");
            }
        }
    }

    #[test]
    fn last_keeps_the_newest_n_whatever_their_order() {
        let times = [
            utc("2026-01-03T00:00:00Z"),
            utc("2026-01-05T00:00:00Z"),
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-04T00:00:00Z"),
        ];
        let rules = KeepRules {
            last: 2,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, rules), [1, 3]);
    }

    #[test]
    fn several_a_day_keep_the_newest_of_each_day() {
        let times = [
            utc("2026-03-01T01:00:00Z"),
            utc("2026-03-01T13:00:00Z"),
            utc("2026-03-01T23:00:00Z"),
            utc("2026-03-02T01:00:00Z"),
            utc("2026-03-02T02:00:00Z"),
        ];
        let rules = KeepRules {
            daily: 2,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, rules), [2, 4]);
    }

    /// Days are days in TZ: 23:30 UTC on 1 March is 2 March in Tokyo (UTC+9).
    #[test]
    fn periods_are_evaluated_in_tz() {
        let times = [
            utc("2026-03-01T10:00:00Z"), // 19:00 on 1 March in Tokyo
            utc("2026-03-01T14:00:00Z"), // 23:00 on 1 March in Tokyo
            utc("2026-03-01T23:30:00Z"), // 08:30 on 2 March in Tokyo
        ];
        let rules = KeepRules {
            daily: 2,
            ..Default::default()
        };
        // In UTC one day: its newest, and the oldest (a count was left).
        assert_eq!(kept(&times, Tz::UTC, rules), [0, 2]);
        // In Tokyo two days: the newest of each, and no count left for the oldest.
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(kept(&times, tokyo, rules), [1, 2]);
    }

    /// New York leaves summer time on 1 Nov 2026 at 02:00 EDT: 01:00-02:00 happens twice.
    /// The two 01:30s are one hourly period (local clock time), and the day has 25 hours
    /// but is one daily period.
    #[test]
    fn dst_fall_back_repeats_an_hour() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let times = [
            utc("2026-11-01T04:00:00Z"), // 00:00 EDT
            utc("2026-11-01T05:30:00Z"), // 01:30 EDT
            utc("2026-11-01T06:30:00Z"), // 01:30 EST
            utc("2026-11-01T07:30:00Z"), // 02:30 EST
            utc("2026-11-02T04:30:00Z"), // 23:30 EST, still 1 Nov
        ];
        let hourly = KeepRules {
            hourly: 3,
            ..Default::default()
        };
        // 23h (4), 02h (3), 01h: its newest, 01:30 EST (2); the first 01:30 shares the hour.
        assert_eq!(kept(&times, ny, hourly), [2, 3, 4]);
        let daily = KeepRules {
            daily: 1,
            ..Default::default()
        };
        assert_eq!(kept(&times, ny, daily), [4]);
    }

    /// Spring forward (8 Mar 2026, 02:00 EST → 03:00 EDT): no hour is skipped in the counting.
    #[test]
    fn dst_spring_forward_skips_no_period() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let times = [
            utc("2026-03-08T06:30:00Z"), // 01:30 EST
            utc("2026-03-08T07:30:00Z"), // 03:30 EDT
        ];
        let hourly = KeepRules {
            hourly: 2,
            ..Default::default()
        };
        assert_eq!(kept(&times, ny, hourly), [0, 1]);
    }

    /// N counts periods that have a backup: a gap of months does not use up counts.
    #[test]
    fn gaps_do_not_use_up_counts() {
        let times = [
            utc("2025-01-10T00:00:00Z"),
            utc("2025-06-10T00:00:00Z"),
            utc("2026-02-10T00:00:00Z"),
            utc("2026-02-20T00:00:00Z"),
        ];
        let rules = KeepRules {
            monthly: 3,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, rules), [0, 1, 3]);
    }

    /// ISO weeks: 2026-12-31 (Thursday) and 2027-01-03 (Sunday) are both in week 53 of 2026.
    #[test]
    fn weeks_are_iso_weeks_across_the_new_year() {
        let times = [
            utc("2026-12-28T12:00:00Z"), // Monday, week 53
            utc("2027-01-03T12:00:00Z"), // Sunday, week 53
            utc("2027-01-04T12:00:00Z"), // Monday, week 1 of 2027
        ];
        let rules = KeepRules {
            weekly: 2,
            ..Default::default()
        };
        assert_eq!(kept(&times, Tz::UTC, rules), [1, 2]);
    }

    /// Counts left at the end keep the oldest backup too (restic 0.16+).
    #[test]
    fn a_short_history_keeps_its_oldest() {
        let times = [
            utc("2026-05-01T10:00:00Z"),
            utc("2026-05-01T11:00:00Z"),
            utc("2026-05-01T12:00:00Z"),
        ];
        let rules = KeepRules {
            daily: 7,
            ..Default::default()
        };
        let d = decide(&times, Tz::UTC, &rules, utc(NOW));
        assert_eq!(d[2], [Reason::Rule(Rule::Daily)]);
        assert_eq!(d[0], [Reason::Oldest(Rule::Daily)]);
        assert!(d[1].is_empty());
    }

    #[test]
    fn any_rule_keeps_and_reasons_are_all_listed() {
        let times = [utc("2026-05-01T10:00:00Z"), utc("2026-05-02T10:00:00Z")];
        let rules = KeepRules {
            last: 1,
            daily: 1,
            monthly: 1,
            ..Default::default()
        };
        let d = decide(&times, Tz::UTC, &rules, utc(NOW));
        assert_eq!(
            d[1],
            [
                Reason::Rule(Rule::Last),
                Reason::Rule(Rule::Daily),
                Reason::Rule(Rule::Monthly)
            ]
        );
        assert!(d[0].is_empty());
        assert_eq!(rules.describe(), "last 1, daily 1, monthly 1");
    }

    #[test]
    fn future_backups_are_kept_and_use_no_period() {
        let times = [
            utc("2026-05-01T10:00:00Z"),
            utc("2026-05-02T10:00:00Z"),
            utc("2031-01-01T00:00:00Z"),
        ];
        let rules = KeepRules {
            last: 1,
            ..Default::default()
        };
        let d = decide(&times, Tz::UTC, &rules, utc(NOW));
        assert_eq!(d[2], [Reason::Future]);
        assert_eq!(d[1], [Reason::Rule(Rule::Last)]);
        assert!(d[0].is_empty());
    }

    #[test]
    fn empty_rules_and_lists() {
        assert!(KeepRules::default().is_empty());
        assert!(decide(
            &[],
            Tz::UTC,
            &KeepRules {
                last: 3,
                ..Default::default()
            },
            utc(NOW)
        )
        .is_empty());
    }
}
