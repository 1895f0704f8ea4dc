//! Version injection: `DBSTASH_VERSION` (the release tag without `v`) and `DBSTASH_COMMIT` (the
//! short commit) are set by the release workflow and the image builds. A build without them
//! is marked as a development build, so `dbstash --version` never passes one off as a release.

fn main() {
    println!("cargo:rerun-if-env-changed=DBSTASH_VERSION");
    println!("cargo:rerun-if-env-changed=DBSTASH_COMMIT");
    let injected = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let version = injected("DBSTASH_VERSION").unwrap_or_else(|| {
        format!(
            "{}-dev",
            std::env::var("CARGO_PKG_VERSION").unwrap_or_default()
        )
    });
    let line = match injected("DBSTASH_COMMIT") {
        Some(commit) => format!("{version} (commit {commit})"),
        None if version.ends_with("-dev") => format!("{version} (development build)"),
        None => version.clone(),
    };
    println!("cargo:rustc-env=DBSTASH_BUILD_VERSION={version}");
    println!("cargo:rustc-env=DBSTASH_BUILD_VERSION_LINE={line}");
}
