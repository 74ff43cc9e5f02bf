#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# fetch_bench.sh: mirror the corpus archive from a local nginx with
# `btfpack fetch` and with `curl --parallel` fetching the same URLs, in the
# same run, interleaved; then time a no-op re-run of btfpack fetch.
#
#   bench/fetch_bench.sh [BTFPACK] [ARCHIVE_DIR] [RUNS] [JOBS]
#
# Defaults: build/cli/btfpack, ../shared/corpus/archive, 5 runs, 8 parallel.
# Prints each run and the medians side by side with their ratio.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
btfpack=$(realpath "${1:-$here/build/cli/btfpack}")
archive=$(realpath "${2:-$here/../shared/corpus/archive}")
runs=${3:-5}
jobs=${4:-8}
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-bench.XXXXXX")
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -n "${ngpid:-}" ] && wait "$ngpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/ng"
cat > "$work/ng/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $work/nginx.pid; error_log $work/ng/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path $work/ng/b; proxy_temp_path $work/ng/p;
  fastcgi_temp_path $work/ng/f; uwsgi_temp_path $work/ng/u; scgi_temp_path $work/ng/s;
  server { listen 127.0.0.1:$port; root $archive; }
}
CONF
"$nginx" -p "$work/ng" -c "$work/ng/nginx.conf" -e "$work/ng/error.log" &
ngpid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
base="http://127.0.0.1:$port"

# The listing (git tree JSON with git blob ids) and curl's URL list.
(cd "$archive" && find . -type f -name '*.btf.tar.xz' | sed 's|^\./||' | sort) > "$work/paths"
python3 - "$archive" "$work/paths" "$work/listing.json" <<'PY'
import json, os, subprocess, sys
root, paths_file, out = sys.argv[1:]
paths = open(paths_file).read().split()
ids = subprocess.run(["git", "hash-object", "--stdin-paths"], check=True,
                     input="\n".join(f"{root}/{p}" for p in paths),
                     capture_output=True, text=True).stdout.split()
tree = [{"path": p, "mode": "100644", "type": "blob",
         "size": os.path.getsize(f"{root}/{p}"), "sha": i}
        for p, i in zip(paths, ids)]
json.dump({"sha": "bench", "tree": tree, "truncated": False}, open(out, "w"))
PY
while read -r p; do
  printf 'url = "%s/%s"\noutput = "%s/curl/%s"\n' "$base" "$p" "$work" "$p"
done < "$work/paths" > "$work/curl.cfg"
files=$(wc -l < "$work/paths")
bytes=$(cd "$archive" && du -cb $(cat "$work/paths") | tail -1 | cut -f1)

now() { date +%s.%N; }
declare -a t_curl t_btf t_noop
for i in $(seq "$runs"); do
  rm -rf "$work/curl" "$work/mirror"; sync
  a=$(now); curl -s --no-progress-meter --parallel --parallel-max "$jobs" --create-dirs -K "$work/curl.cfg"; b=$(now)
  t_curl+=("$(echo "$b - $a" | bc)")
  sync
  a=$(now)
  "$btfpack" fetch --from "$base" --listing "$work/listing.json" --to "$work/mirror" -j "$jobs" --json > "$work/out.json"
  b=$(now)
  t_btf+=("$(echo "$b - $a" | bc)")
  grep -q "\"fetched\":$files" "$work/out.json" || { echo "btfpack fetch did not fetch all files:"; cat "$work/out.json"; exit 1; }
  a=$(now)
  "$btfpack" fetch --from "$base" --listing "$work/listing.json" --to "$work/mirror" -j "$jobs" --json > "$work/noop.json"
  b=$(now)
  t_noop+=("$(echo "$b - $a" | bc)")
  grep -q '"fetched":0' "$work/noop.json" || { echo "no-op run fetched something:"; cat "$work/noop.json"; exit 1; }
  printf 'run %d: curl --parallel %.3f s   btfpack fetch %.3f s   no-op re-run %.3f s\n' \
    "$i" "${t_curl[-1]}" "${t_btf[-1]}" "${t_noop[-1]}"
done
# Both mirrors are byte-identical.
diff -r -q "$work/curl" "$work/mirror" -x index.json -x .fetch.lock >/dev/null \
  || { echo "mirrors differ"; exit 1; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
mc=$(median "${t_curl[@]}"); mb=$(median "${t_btf[@]}"); mn=$(median "${t_noop[@]}")
echo
echo "corpus: $files files, $bytes bytes, from nginx on 127.0.0.1, $jobs parallel, $runs runs (median)"
printf '%-34s %8.3f s\n' "curl --parallel" "$mc"
printf '%-34s %8.3f s   %.2fx curl\n' "btfpack fetch (verified, indexed)" "$mb" "$(echo "$mb / $mc" | bc -l)"
printf '%-34s %8.3f s\n' "btfpack fetch no-op re-run" "$mn"
