#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/, see docs/fuzzing.md) and runs each one
# for a while, seeded from its committed corpus.
#
#   scripts/fuzz.sh                    # every target, 20 s each
#   scripts/fuzz.sh 600                # the long run: 10 minutes each
#   scripts/fuzz.sh 20 raw_tx rpc      # only these targets
#
# - cargo-fuzz is installed (pinned) when missing. The nightly toolchain
#   is used when rustup has one; otherwise stable with RUSTC_BOOTSTRAP=1,
#   which cargo-fuzz's -Z flags need.
# - Each run works on a scratch copy of fuzz/corpus/<target>
#   (fuzz/scratch/, gitignored), so the inputs a run finds never grow the
#   committed corpus; later runs start from what earlier ones found.
# - A crash, panic, timeout or out-of-memory stops the script with exit
#   status 1 after printing the input that caused it (under fuzz/artifacts/)
#   and the command that replays it.
#
# Environment: FUZZ_SANITIZER (default none: our crates have no unsafe
# code, and AddressSanitizer doubles the build time; `address` turns it
# on), FUZZ_RSS_LIMIT_MB (default 2048), FUZZ_TIMEOUT_S (one input, default
# 10).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

cargo_fuzz_version=0.13.2
seconds="${1:-20}"
shift || true
sanitizer="${FUZZ_SANITIZER:-none}"
rss_limit="${FUZZ_RSS_LIMIT_MB:-2048}"
timeout="${FUZZ_TIMEOUT_S:-10}"

say() { printf 'fuzz.sh: %s\n' "$*" >&2; }

case "$seconds" in
  '' | *[!0-9]*) say "the first argument is seconds per target, not '$seconds'"; exit 2 ;;
esac

toolchain=()
if rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  say "no nightly toolchain: using stable with RUSTC_BOOTSTRAP=1"
  export RUSTC_BOOTSTRAP=1
fi

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
  say "installing cargo-fuzz $cargo_fuzz_version"
  cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
fi

fuzz() { cargo "${toolchain[@]}" fuzz "$@"; }

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(fuzz list)
fi

started=$(date +%s)
say "building ${#targets[@]} targets (sanitizer: $sanitizer)"
if [ "$#" -eq 1 ]; then
  fuzz build --sanitizer "$sanitizer" "${targets[0]}"
else
  fuzz build --sanitizer "$sanitizer"
fi
say "built in $(($(date +%s) - started)) s"

summary=()
failed=0
for target in "${targets[@]}"; do
  seeds="fuzz/corpus/$target"
  scratch="fuzz/scratch/$target"
  artifacts="fuzz/artifacts/$target"
  log="fuzz/scratch/$target.log"
  mkdir -p "$scratch" "$artifacts"
  if [ -d "$seeds" ]; then
    cp -n "$seeds"/* "$scratch"/ 2>/dev/null || true
  else
    say "$target has no committed corpus ($seeds): starting from nothing"
  fi
  say "running $target for $seconds s"
  status=0
  fuzz run --sanitizer "$sanitizer" "$target" "$scratch" -- \
    -max_total_time="$seconds" -rss_limit_mb="$rss_limit" -timeout="$timeout" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n1 || true)
  if [ "$status" -eq 0 ]; then
    line="ok     $target: ${runs:-?} runs in $seconds s, ${cov:-no coverage line}"
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    tail -n 40 "$log" >&2
    line="FAILED $target (exit $status; log $log)"
    if [ -n "$artifact" ]; then
      line+=$'\n'"       input: $artifact"
      line+=$'\n'"       replay: cargo ${toolchain[*]} fuzz run --sanitizer $sanitizer $target $artifact"
    fi
  fi
  say "$line"
  summary+=("$line")
done

say "summary ($(($(date +%s) - started)) s in all):"
for line in "${summary[@]}"; do
  printf '  %s\n' "$line" >&2
done
exit "$failed"
