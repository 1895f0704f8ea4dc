//! A child process described as data: the program, its arguments, its environment and the
//! secret file it gets. Engines build these; `process` and the pipeline run them. Neither
//! needs the other to agree on the shape.

use std::fmt;

use secrecy::SecretString;

use crate::argv::{quote, redact_args};

/// A dump tool invocation. Secrets travel in `env` or `secret_file`, never in `args`.
#[derive(Debug, Clone)]
pub struct DumpCommand {
    pub program: String,
    /// Run this instead when `program` is not on PATH (`mariadb-dump` → `mysqldump`).
    pub fallback: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(&'static str, SecretString)>,
    /// Handed to the tool as a 0600 memory file at run time ([`crate::process::secret_file`]).
    pub secret_file: Option<SecretFile>,
}

#[derive(Debug, Clone)]
pub struct SecretFile {
    pub pass: PassPath,
    pub content: SecretString,
}

/// How the tool learns the secret file's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassPath {
    /// As the first argument, `{flag}{path}` (mongodump `--config=`).
    Flag(&'static str),
    /// In an environment variable (libpq's `PGSERVICEFILE`).
    Env(&'static str),
}

impl DumpCommand {
    pub fn new(program: &str, args: Vec<String>) -> DumpCommand {
        DumpCommand {
            program: program.to_string(),
            fallback: None,
            args,
            env: Vec::new(),
            secret_file: None,
        }
    }

    /// Add `var` to the environment when a secret is set.
    pub fn secret_env(mut self, var: &'static str, value: Option<&SecretString>) -> DumpCommand {
        if let Some(v) = value {
            self.env.push((var, v.clone()));
        }
        self
    }
}

impl fmt::Display for DumpCommand {
    /// Shell-like rendering with every secret value redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, _) in &self.env {
            write!(f, "{k}=*** ")?;
        }
        if let Some(SecretFile {
            pass: PassPath::Env(var),
            ..
        }) = &self.secret_file
        {
            write!(f, "{var}=<0600 memory file> ")?;
        }
        f.write_str(&quote(&self.program))?;
        if let Some(SecretFile {
            pass: PassPath::Flag(flag),
            ..
        }) = &self.secret_file
        {
            write!(f, " {flag}<0600 memory file>")?;
        }
        for a in redact_args(&self.args) {
            write!(f, " {}", quote(&a))?;
        }
        Ok(())
    }
}
