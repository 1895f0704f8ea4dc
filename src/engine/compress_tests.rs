//! BACKUP_COMPRESS, BACKUP_COMPRESS_ALGO and BACKUP_COMPRESS_LEVEL per engine and mode: what
//! is compressed where (natively, in-process, not at all), the extension in effect, and the
//! settings refused because they would do nothing.

use super::*;
use crate::cli::CommonArgs;
use crate::config::CompressAlgo::{self, Gzip, Zstd};

#[derive(Default, Clone, Copy)]
struct Set {
    mode: &'static str,
    compress: bool,
    algo: Option<&'static str>,
    level: Option<&'static str>,
    extra: &'static str,
    all: bool,
}

fn args(s: Set) -> CommonArgs {
    CommonArgs {
        db_host: Some("h".into()),
        db_name: (!s.all).then(|| "shop".into()),
        backup_all_databases: s.all.then(|| "true".into()),
        rclone_remote: Some("s3:b".into()),
        backup_schedule: Some("once".into()),
        backup_mode: (!s.mode.is_empty()).then(|| s.mode.into()),
        backup_compress: Some(s.compress.to_string()),
        backup_compress_algo: s.algo.map(Into::into),
        backup_compress_level: s.level.map(Into::into),
        dump_extra_args: (!s.extra.is_empty()).then(|| s.extra.into()),
        ..CommonArgs::default()
    }
}

fn on(algo: Option<&'static str>) -> Set {
    Set {
        compress: true,
        algo,
        ..Set::default()
    }
}

#[test]
fn what_is_compressed_in_process_and_the_extension_in_effect() {
    use EngineKind::*;
    let tar = |s: Set| Set { mode: "tar", ..s };
    type Row = (EngineKind, Set, Option<(CompressAlgo, i32)>, &'static str);
    let rows: Vec<Row> = vec![
        // Stream mode, BACKUP_COMPRESS alone: native where the engine has it.
        (Pg, on(None), None, ".dump"),
        (
            Pg,
            Set {
                all: true,
                ..on(None)
            },
            Some((Zstd, 3)),
            ".sql.zst",
        ),
        (Mysql, on(None), Some((Zstd, 3)), ".sql.zst"),
        (Mariadb, on(None), Some((Zstd, 3)), ".sql.zst"),
        (Mongo, on(None), None, ".archive.gz"),
        (Redis, on(None), None, ".rdb"),
        // An algorithm: in-process for every engine, the native compression off.
        (Pg, on(Some("zstd")), Some((Zstd, 3)), ".sql.zst"),
        (
            Pg,
            Set {
                level: Some("12"),
                ..on(Some("zstd"))
            },
            Some((Zstd, 12)),
            ".sql.zst",
        ),
        (
            Mysql,
            Set {
                level: Some("9"),
                ..on(Some("gzip"))
            },
            Some((Gzip, 9)),
            ".sql.gz",
        ),
        (Mysql, on(Some("gzip")), Some((Gzip, 6)), ".sql.gz"),
        (
            Mysql,
            Set {
                level: Some("1"),
                ..on(None)
            },
            Some((Zstd, 1)),
            ".sql.zst",
        ),
        (Mongo, on(Some("zstd")), Some((Zstd, 3)), ".archive.zst"),
        (Redis, on(Some("zstd")), Some((Zstd, 3)), ".rdb.zst"),
        (Redis, on(Some("gzip")), Some((Gzip, 6)), ".rdb.gz"),
        // Off.
        (Mysql, Set::default(), None, ".sql"),
        (Pg, Set::default(), None, ".sql"),
        // Tar mode: the tar, unless the dump's files are compressed already.
        (Pg, tar(on(None)), None, ".tar"),
        (
            Pg,
            tar(Set {
                extra: "--compress=0",
                ..on(None)
            }),
            Some((Zstd, 3)),
            ".tar.zst",
        ),
        (Pg, tar(on(Some("gzip"))), Some((Gzip, 6)), ".tar.gz"),
        (Mysql, tar(on(None)), Some((Zstd, 3)), ".tar.zst"),
        (
            Mysql,
            tar(Set {
                level: Some("7"),
                ..on(Some("gzip"))
            }),
            Some((Gzip, 7)),
            ".tar.gz",
        ),
        (Mongo, tar(on(None)), None, ".tar"),
        (Mongo, tar(on(Some("zstd"))), Some((Zstd, 3)), ".tar.zst"),
        (Mysql, tar(Set::default()), None, ".tar"),
        // Directory mode: never.
        (
            Mysql,
            Set {
                mode: "directory",
                ..on(None)
            },
            None,
            "",
        ),
    ];
    for (kind, set, want, ext) in rows {
        let c = Config::resolve(kind, args(set)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(
            in_process_compression(&c),
            want,
            "{kind:?} {:?} {:?}",
            set.mode,
            set.algo
        );
        assert_eq!(extension(&c), ext, "{kind:?} {:?} {:?}", set.mode, set.algo);
        assert!(
            ext.is_empty()
                || kind.engine().known_extensions().contains(&ext)
                || ext.starts_with(".tar"),
            "{kind:?}: {ext} is not among its known extensions"
        );
    }
}

#[test]
fn native_compression_follows_the_algorithm() {
    // mongodump --gzip only without an algorithm; pg_dump's custom format likewise.
    let argv = |kind: EngineKind, s: Set| {
        let c = Config::resolve(kind, args(s)).unwrap();
        let d = c.engine().dump_command(&c);
        format!("{} {}", d.program, d.args.join(" "))
    };
    assert!(argv(EngineKind::Mongo, on(None)).starts_with("mongodump --archive --gzip "));
    let zst = argv(EngineKind::Mongo, on(Some("zstd")));
    assert!(zst.starts_with("mongodump --archive --host"), "{zst}");
    assert!(!zst.contains("--gzip"), "{zst}");
    assert!(argv(EngineKind::Pg, on(None)).contains("--format=custom"));
    assert!(argv(EngineKind::Pg, on(Some("gzip"))).contains("--format=plain"));
    let c = Config::resolve(EngineKind::Pg, args(on(Some("zstd")))).unwrap();
    assert!(!c.native_compress() && c.compress);
}

#[test]
fn settings_that_would_do_nothing_exit_2_naming_the_variable() {
    use EngineKind::*;
    let dir = |s: Set| Set {
        mode: "directory",
        ..s
    };
    let rows: Vec<(EngineKind, Set, &str, &str)> = vec![
        (
            Pg,
            dir(on(Some("zstd"))),
            "BACKUP_COMPRESS_ALGO",
            "BACKUP_MODE=directory",
        ),
        (
            Mysql,
            dir(Set {
                level: Some("3"),
                ..on(None)
            }),
            "BACKUP_COMPRESS_LEVEL",
            "BACKUP_MODE=directory",
        ),
        (
            Pg,
            Set {
                level: Some("9"),
                ..on(None)
            },
            "BACKUP_COMPRESS_LEVEL",
            "set BACKUP_COMPRESS_ALGO",
        ),
        (
            Mongo,
            Set {
                level: Some("9"),
                ..on(None)
            },
            "BACKUP_COMPRESS_LEVEL",
            "DUMP_EXTRA_ARGS",
        ),
        (
            Redis,
            Set {
                level: Some("2"),
                ..on(None)
            },
            "BACKUP_COMPRESS_LEVEL",
            "set BACKUP_COMPRESS_ALGO",
        ),
        (
            Pg,
            Set {
                mode: "tar",
                level: Some("5"),
                ..on(None)
            },
            "BACKUP_COMPRESS_LEVEL",
            "compressed already",
        ),
    ];
    for (kind, set, var, needle) in rows {
        let e = Config::resolve(kind, args(set)).expect_err(var);
        assert!(e.subject.starts_with(var), "{kind:?}: {e}");
        assert!(e.message.contains(needle), "{kind:?}: {e}");
    }
    // Where the level is used, it is accepted.
    for (kind, set) in [
        (
            Mysql,
            Set {
                level: Some("9"),
                ..on(None)
            },
        ),
        (
            Pg,
            Set {
                all: true,
                level: Some("9"),
                ..on(None)
            },
        ),
        (
            Pg,
            Set {
                level: Some("19"),
                ..on(Some("zstd"))
            },
        ),
        (
            Mysql,
            Set {
                mode: "tar",
                level: Some("9"),
                ..on(None)
            },
        ),
    ] {
        Config::resolve(kind, args(set)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
}

#[test]
fn double_compression_and_a_mismatched_extension_are_warned_about() {
    let warned = |kind: EngineKind, s: Set, ext: Option<&str>, needle: &str| {
        let mut a = args(s);
        a.backup_extension = ext.map(Into::into);
        let c = Config::resolve(kind, a).unwrap();
        c.warnings.iter().any(|w| w.contains(needle))
    };
    let twice = "compresses it again";
    assert!(warned(
        EngineKind::Mongo,
        Set {
            extra: "--gzip",
            ..on(Some("zstd"))
        },
        None,
        twice
    ));
    assert!(warned(
        EngineKind::Pg,
        Set {
            extra: "-Z 6",
            ..on(Some("zstd"))
        },
        None,
        twice
    ));
    assert!(warned(
        EngineKind::Pg,
        Set {
            all: false,
            extra: "--compress=zstd",
            ..on(Some("gzip"))
        },
        None,
        twice
    ));
    // Not: the tool's compression is off, or inside a custom archive, or no in-process one.
    assert!(!warned(
        EngineKind::Pg,
        Set {
            extra: "--compress=0",
            ..on(Some("zstd"))
        },
        None,
        twice
    ));
    assert!(!warned(
        EngineKind::Pg,
        Set {
            extra: "-Fc -Z 6",
            ..on(Some("zstd"))
        },
        None,
        twice
    ));
    assert!(!warned(
        EngineKind::Mongo,
        Set {
            extra: "--gzip",
            ..on(None)
        },
        None,
        twice
    ));
    assert!(warned(
        EngineKind::Mysql,
        on(None),
        Some(".sql"),
        "does not end with .zst"
    ));
    assert!(!warned(
        EngineKind::Mysql,
        on(None),
        Some(".mysql.zst"),
        "does not end with"
    ));
}
