#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (seconds per target, default 60) after seeding the
# corpora, and prints one summary line per target. cargo-fuzz needs nightly features; on a
# stable toolchain RUSTC_BOOTSTRAP=1 enables them. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(platform_toml catalog tofu_events theme kubeconfig store_records store_file)
fi
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
"$here/seed.sh" >/dev/null
cd "$here"
export RUSTC_BOOTSTRAP=1
mkdir -p logs
status=0
for t in "${targets[@]}"; do
  log="logs/$t.log"
  if cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -timeout=10 >"$log" 2>&1; then
    runs="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1)"
    echo "$t: ok, $runs(s)"
  else
    status=1
    echo "$t: FAILED, see fuzz/$log and fuzz/artifacts/$t/"
  fi
done
exit $status
