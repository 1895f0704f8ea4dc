fn main() -> std::process::ExitCode {
    dbstash::run()
}
