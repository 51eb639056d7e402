# Recipes mirror the README and .ci/run.

# Run the bootstrap wizard (release build).
run:
    cargo run --release -- tui bootstrap

# The whole test suite, with a real kube-apiserver (built once and cached).
test *ARGS:
    tests/run {{ARGS}}

# What CI runs: formatting, lints, tests.
ci:
    bash .ci/run

lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy -- -D warnings

# The playground (a developer tool, built with the `dev-tools` feature).
playground *ARGS:
    cargo run --features dev-tools -- playground {{ARGS}}

# Benchmarks against the budgets in docs/architecture.md (release build).
bench:
    cargo bench

# Fuzz every input boundary for SECS seconds per target (separate crate in fuzz/, needs cargo-fuzz).
fuzz SECS="60" *TARGETS:
    fuzz/run.sh {{SECS}} {{TARGETS}}
