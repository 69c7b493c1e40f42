#!/usr/bin/env bash
# Explorer page render times on a large index: a release `tally dev` (SQL
# index and explorer on) takes N ERC-20 transfers from `tally bench --kind
# erc20`, then every main page is fetched K times with curl and the median
# and worst times are printed. The busiest sender, the token and a block
# and transaction from the middle of the run come from the index itself.
#
#   scripts/bench-explorer.sh [N] [K]    # default 1,000,000 transfers, 20 fetches
#
# Keep the datadir for more runs with KEEP=DIR (reused when it holds a chain).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-1000000}"
k="${2:-20}"
tally="$root/target/release/tally"
[ -x "$tally" ] || (cd "$root" && cargo build --release -p tally-cli)
work="${KEEP:-$(mktemp -d)}"
mkdir -p "$work"
cleanup() {
  kill "$node" 2>/dev/null || true
  wait "$node" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
port=18610
explorer=18611
rpc="http://127.0.0.1:$port"
"$tally" dev --datadir "$work/chain" --port "$port" --explorer-port "$explorer" \
  --gas-limit 1000000000 >"$work/dev.log" 2>&1 &
node=$!
for _ in $(seq 1 100); do
  grep -q "JSON-RPC" "$work/dev.log" 2>/dev/null && break
  sleep 0.1
done
sql() { "$tally" sql --rpc "$rpc" --format csv "$1" | tail -n +2 | tr -d "\r"; }
have=$(sql "SELECT COUNT(*) FROM token_transfers" 2>/dev/null || echo 0)
if [ "${have:-0}" -lt "$n" ]; then
  echo "loading $n ERC-20 transfers with tally bench (the index follows)..." >&2
  "$tally" bench --rpc "$rpc" --kind erc20 --txs "$((n - have))" --senders 1000 \
    --batch 500 --concurrency 4 --timeout 3600 >&2
fi
# Wait for the index to reach the head.
head=$("$tally" block latest --rpc "$rpc" | awk '/^number:/ {print $2}')
for _ in $(seq 1 600); do
  indexed=$(sql "SELECT COALESCE(MAX(number), 0) FROM blocks")
  [ "$indexed" -ge "$head" ] && break
  sleep 1
done
transfers=$(sql "SELECT COUNT(*) FROM token_transfers")
token=$(sql "SELECT token FROM token_transfers GROUP BY token ORDER BY COUNT(*) DESC LIMIT 1")
busy=$(sql "SELECT sender FROM token_transfers WHERE token = '$token' GROUP BY sender ORDER BY COUNT(*) DESC LIMIT 1")
mid=$((head / 2))
tx=$(sql "SELECT hash FROM transactions WHERE block_number >= $mid ORDER BY block_number LIMIT 1")
echo "index: $transfers token transfers, head block $head; token $token, address $busy" >&2

pages=(
  "home /"
  "block /block/$mid"
  "transaction /tx/$tx"
  "address /address/$busy"
  "contract /address/$token"
  "token /token/$token"
  "search /search?q=$tx"
  "consensus /consensus"
  "sql-console /sql?q=SELECT+COUNT(*)+FROM+blocks"
)
printf '%-12s %10s %10s  %s\n' page median_ms max_ms path
for entry in "${pages[@]}"; do
  name=${entry%% *}
  path=${entry#* }
  times=()
  for _ in $(seq 1 "$k"); do
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$explorer$path")
    code=${t%% *}
    case "$code" in 200 | 303) ;; *) echo "$name: HTTP $code for $path" >&2; exit 1 ;; esac
    times+=("${t#* }")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" -v path="$path" '
    { v[NR] = $1 * 1000 }
    END { printf "%-12s %10.1f %10.1f  %s\n", name, v[int((NR + 1) / 2)], v[NR], path }'
done
