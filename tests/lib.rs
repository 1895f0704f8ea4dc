//! Integration tests: the real `dbstash` binary against real servers and fakes on PATH.
//! One test binary, so servers are shared between tests.

mod support;

mod check;
mod cli;
mod compression;
mod compression_pg;
mod daemon;
mod docs;
mod encryption;
mod encryption_edges;
mod examples;
mod fuzz;
mod health_limits;
mod hooks;
mod inputs;
mod layers;
mod list_verify;
mod lock;
mod loudness;
mod modes;
mod modes_cleanup;
mod modes_verify;
mod mongo;
mod mysql;
mod names;
mod notify;
mod orphans;
mod pg;
mod races;
mod rcd;
mod redis;
mod release;
mod restore_modes;
mod restore_others;
mod restore_pg;
mod restore_split;
mod retention_calendar;
mod secrets;
mod split;
mod tools;
