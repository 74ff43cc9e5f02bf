#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# fetch_bench.sh: mirror the corpus archive from a local nginx with
# `btfpack fetch` and with `curl --parallel` fetching the same URLs, in the
# same run, interleaved (plus what verifying curl's files afterwards would
# add: git hash-object and sha256sum, the two digests btfpack computes);
# then time a no-op re-run of btfpack fetch. Wall and CPU time per run.
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
load0=$(cut -d' ' -f1-3 /proc/loadavg)

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

# timed CMD...: wall and CPU (user+sys, of CMD and its children) seconds of
# CMD, as "WALL CPU", to the millisecond (/usr/bin/time rounds to 10 ms,
# too coarse for runs of 0.1-0.2 s).
cat > "$work/timed.py" <<'PY'
import os, resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
with open(sys.argv[1], "w") as err:
    rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(f"{t1 - t0:.4f} {cpu:.4f}")
sys.exit(rc)
PY
timed() {
  python3 "$work/timed.py" "$work/stderr" "$@" ||
    { echo "failed: $*" >&2; cat "$work/stderr" >&2; exit 1; }
}
verify_curl() { # what checking curl's files against the listing costs
  (cd "$work/curl" && xargs -a "$work/paths" git hash-object > /dev/null &&
   xargs -a "$work/paths" sha256sum > /dev/null)
}
export -f verify_curl; export work
declare -a w_curl c_curl w_ver w_btf c_btf w_noop
for i in $(seq "$runs"); do
  rm -rf "$work/curl" "$work/mirror"; sync
  read -r w c < <(timed curl -s --no-progress-meter --parallel --parallel-max "$jobs" --create-dirs -K "$work/curl.cfg")
  w_curl+=("$w"); c_curl+=("$c")
  sync
  read -r w c < <(timed "$btfpack" fetch --from "$base" --listing "$work/listing.json" --to "$work/mirror" -j "$jobs" --json)
  w_btf+=("$w"); c_btf+=("$c")
  # Verifying curl's files is timed after btfpack ran, so that reading them
  # does not disturb btfpack's run.
  read -r w c < <(timed bash -c verify_curl)
  w_ver+=("$(echo "${w_curl[-1]} + $w" | bc)")
  "$btfpack" fetch --from "$base" --listing "$work/listing.json" --to "$work/mirror" --dry-run --json > "$work/check.json"
  grep -q '"to_fetch":\[\]' "$work/check.json" || { echo "btfpack fetch left files to fetch:"; cat "$work/check.json"; exit 1; }
  read -r w c < <(timed "$btfpack" fetch --from "$base" --listing "$work/listing.json" --to "$work/mirror" -j "$jobs" --json)
  w_noop+=("$w")
  printf 'run %d: curl --parallel %.4f s (cpu %.4f)  curl+verify %.4f s  btfpack fetch %.4f s (cpu %.4f)  no-op re-run %.4f s\n' \
    "$i" "${w_curl[-1]}" "${c_curl[-1]}" "${w_ver[-1]}" "${w_btf[-1]}" "${c_btf[-1]}" "${w_noop[-1]}"
done
# Both mirrors are byte-identical.
diff -r -q "$work/curl" "$work/mirror" -x index.json -x .fetch.lock >/dev/null \
  || { echo "mirrors differ"; exit 1; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
mc=$(median "${w_curl[@]}"); mv=$(median "${w_ver[@]}"); mb=$(median "${w_btf[@]}"); mn=$(median "${w_noop[@]}")
cc=$(median "${c_curl[@]}"); cb=$(median "${c_btf[@]}")
echo
echo "corpus: $files files, $bytes bytes, from nginx on 127.0.0.1, $jobs parallel, $runs runs (median)"
echo "load average before: $load0"
printf '%-44s %7.4f s  cpu %.4f s\n' "curl --parallel (no verification)" "$mc" "$cc"
printf '%-44s %7.4f s\n' "curl --parallel + git hash-object + sha256sum" "$mv"
printf '%-44s %7.4f s  cpu %.4f s  %.2fx curl, %.2fx curl+verify\n' "btfpack fetch (verified, indexed)" "$mb" "$cb" \
  "$(echo "$mb / $mc" | bc -l)" "$(echo "$mb / $mv" | bc -l)"
printf '%-44s %7.4f s\n' "btfpack fetch no-op re-run" "$mn"
