//! Documentation generated from the CLI definition itself, so it cannot drift from it:
//! `dbstash completions <shell>` and `dbstash man`. Release archives and the images ship both.

use std::io::Write as _;
use std::process::ExitCode;

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`, as `dbstash completions <shell>` prints it.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "dbstash", &mut out);
    out
}

/// The man page dbstash(1), in roff.
pub fn man_page() -> Vec<u8> {
    let mut out = Vec::new();
    // Rendering into memory cannot fail with an I/O error.
    let _ = clap_mangen::Man::new(Cli::command()).render(&mut out);
    out
}

pub fn completions(shell: Shell) -> ExitCode {
    print_all(&completion_script(shell))
}

pub fn man() -> ExitCode {
    print_all(&man_page())
}

/// Writes to stdout; a closed pipe (`dbstash man | head`) is an ordinary exit 1, not a panic.
fn print_all(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(crate::EXIT_BACKUP_FAILED)
        }
        Err(e) => {
            eprintln!("dbstash: cannot write to stdout: {e}");
            ExitCode::from(crate::EXIT_BACKUP_FAILED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_engines() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let script = String::from_utf8(completion_script(shell)).unwrap();
            for word in ["dbstash", "mariadb", "rclone-remote", "healthcheck"] {
                assert!(script.contains(word), "{shell} completions lack {word}");
            }
        }
    }

    #[test]
    fn man_page_lists_flags_and_their_variables() {
        let page = String::from_utf8(man_page()).unwrap();
        assert!(
            page.starts_with(".ie"),
            "not roff:\n{}",
            &page[..200.min(page.len())]
        );
        for word in ["dbstash", "rclone\\-remote", "RCLONE_REMOTE", "Exit codes"] {
            assert!(page.contains(word), "man page lacks {word}");
        }
    }
}
