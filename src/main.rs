fn main() -> std::process::ExitCode {
    openova::cli::main()
}
