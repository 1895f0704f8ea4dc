//! The dry run of `restore pg`: the backup, its checksum, the target and the steps a restore
//! would take, with nothing executed.

use std::fmt::Write as _;

use super::{Kind, Options};
use crate::config::Config;
use crate::engine::Postgres;
use crate::rclone::{self, Rclone};
use crate::restore::Selected;

pub(super) fn describe(cfg: &Config, opts: &Options, sel: &Selected) -> String {
    let kind = Kind::by_name(cfg, &sel.name);
    let mut s = String::from("dbstash dry run: nothing is executed.\n\nBackup:\n");
    let _ = writeln!(s, "  object     {}", rclone::redact_remote(&sel.path));
    let size = if sel.size >= 0 {
        format!("{} bytes", sel.size)
    } else {
        "unknown (the backend does not say)".into()
    };
    let _ = writeln!(s, "  size       {size}");
    let _ = writeln!(s, "  modified   {}", sel.mod_time.to_rfc3339());
    let checksum = match (&sel.sha256, opts.no_verify) {
        (Some(h), _) => format!("sha256 {h} (from {}.sha256): checked while the backup is read; nothing is committed unless it matches", sel.name),
        (None, true) => format!("none ({}.sha256 is missing): restored unverified (--no-verify); a plain script must end with pg_dump's completion line", sel.name),
        (None, false) => format!("none ({}.sha256 is missing): the restore would be REFUSED without --no-verify", sel.name),
    };
    let _ = writeln!(s, "  checksum   {checksum}");
    s.push_str(&crate::restore::decrypt::describe(cfg, &sel.name, 11).unwrap_or_default());
    let _ = writeln!(
        s,
        "  format     {} (by its name; the restore reads its first bytes)",
        kind.describe()
    );
    let cat = Rclone::describe(cfg, "cat", &sel.path);
    let _ = writeln!(s, "\nTarget:");
    match kind {
        Kind::Cluster => {
            let _ = writeln!(s, "  the cluster: pg_dumpall's script connects to {} first, then creates and fills each database", Postgres.maintenance_database(cfg));
            let _ = writeln!(
                s,
                "  refused if one of its databases already has tables{}",
                if opts.force {
                    " (--force: applied anyway)"
                } else {
                    " (unless --force)"
                }
            );
            let _ = writeln!(
                s,
                "\nSteps:\n  1. download and verify: {cat} > <0600 file in {}>",
                cfg.temp_dir.display()
            );
            let _ = writeln!(
                s,
                "  2. {} < <that file>",
                Postgres.restore_cluster(cfg, "-")
            );
            let _ = writeln!(s, "  (not one transaction: CREATE DATABASE cannot run in one; errors other than existing roles fail the restore)");
        }
        _ => {
            let _ = writeln!(s, "  database   {} ({})", opts.target, opts.target_from);
            let policy = if opts.drop_existing {
                match kind {
                    Kind::Archive => "with tables: pg_restore --clean --if-exists drops what the backup recreates, in the restore's transaction",
                    _ => "with tables: every schema and large object is dropped first, in the restore's transaction (--drop-existing)",
                }
            } else if opts.force {
                "with tables: restored on top of them (--force); a conflict fails and rolls back the restore"
            } else {
                "with tables: REFUSED (give --drop-existing or --force)"
            };
            let _ = writeln!(s, "  if missing: created (CREATE DATABASE, connected to {}); dropped again if the restore fails", Postgres.maintenance_database(cfg));
            let _ = writeln!(s, "  {policy}");
            let psql = Postgres.restore_psql(cfg, &opts.target, None);
            let _ = writeln!(s, "\nSteps:");
            match kind {
                Kind::Archive => {
                    let _ = writeln!(
                        s,
                        "  {cat} | dbstash (SHA-256) | {} | {psql}",
                        Postgres.restore_script(opts.drop_existing)
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "  {cat} | dbstash (SHA-256, decompressing .gz/.zst) | {psql}"
                    );
                }
            }
            let _ = writeln!(s, "  psql commits only when its input ends, and its input ends only after the whole backup was read and its SHA-256 matched; otherwise psql is killed and nothing is committed");
            let _ = writeln!(s, "  (a script with its own BEGIN/COMMIT, e.g. large objects, is downloaded and verified first instead)");
        }
    }
    s
}
