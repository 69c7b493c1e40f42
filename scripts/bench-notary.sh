#!/usr/bin/env bash
# End-to-end stamping throughput: N files are written, then one
# `tally notary stamp DIR` hashes them (SHA-256, all cores), stamps them
# under a Merkle root per 4,000 (one transaction each) against a release
# `tally dev`, waits for every receipt and writes a receipt file per
# document. Prints documents per second for the whole command.
#
#   scripts/bench-notary.sh [N]      # default 40,000 files
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-40000}"
tally="$root/target/release/tally"
[ -x "$tally" ] || (cd "$root" && cargo build --release -p tally-cli)
work="$(mktemp -d)"
trap 'kill "$node" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/docs"
for i in $(seq 1 "$n"); do printf 'document %d\n' "$i" >"$work/docs/$i.txt"; done
# The documents exist before the stamp: flush their writes so the timed
# part does not pay for them.
sync
port=18600
"$tally" dev --no-explorer --datadir "$work/chain" --port "$port" >"$work/dev.log" 2>&1 &
node=$!
for _ in $(seq 1 100); do
  grep -q "JSON-RPC" "$work/dev.log" 2>/dev/null && break
  sleep 0.1
done
start=$(date +%s.%N)
"$tally" notary stamp "$work/docs" --label bench --receipts "$work/receipts" \
  --dev-account 0 --rpc "http://127.0.0.1:$port" >"$work/stamp.log"
end=$(date +%s.%N)
batches=$(grep -c "^stamped" "$work/stamp.log")
awk -v n="$n" -v s="$start" -v e="$end" -v b="$batches" 'BEGIN {
  t = e - s
  printf "stamped %d documents in %d transactions in %.2f s: %.0f documents/s end to end\n", n, b, t, n / t
}'
