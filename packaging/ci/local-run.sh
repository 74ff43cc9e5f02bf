#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The per-release bundle job, step by step. The GitHub Actions and GitLab CI
# workflows beside this script call it for each step, and
# tests/packaging runs it locally, so the test proves what CI runs.
#
#   local-run.sh install        bpftool and jq from Debian, btfpack from its
#                               .deb (run as root in the Debian 12 image)
#   local-run.sh shard K N      gen for shard K of N  -> $OUT/shards/K/
#   local-run.sh merge          shards -> signed bundle + coverage report
#   local-run.sh single         the same bundle on one machine (no shards)
#   local-run.sh verify FILE    check a bundle with the public key
#   local-run.sh all N          shard 1..N, merge, single, and compare the
#                               two bundles byte for byte
#   local-run.sh scheduled      the scheduled job: build against the current
#                               archive and publish into $BTFPACK_PUBLISH_DIR
#                               only when `btfpack diff` shows a change
#
# Environment:
#   BTFPACK_CONFIG   the build configuration (default btfpack.json)
#   BTFPACK          the btfpack command (default: btfpack on PATH)
#   OUT              output directory (default out)
#   BTFPACK_SECRET_KEY  the signing key's text or path (CI secret store);
#                    the configuration may name another variable or a file
#   BTFPACK_PUBLIC_KEY  public key to verify with (default: $OUT/signer.pub
#                    when the key was generated here)
#   SOURCE_DATE_EPOCH   creation time recorded in the bundle; set once per
#                    pipeline so every job records the same (this script
#                    sets it from the last commit when unset)
#   BTFPACK_BUILD_ARGS  extra `btfpack build` arguments for every step
#                    (e.g. --bundle-version 42 --no-fetch)
#   BTFPACK_DEB      (install) the btfpack .deb: a path in your repository
#                    or a URL. Default: ci/btfpack_*.deb if you committed
#                    one, else the release asset of btfpack's own release
#                    $BTFPACK_VERSION on GitHub:
#                    https://github.com/btfpack/btfpack/releases/download/
#                    v$BTFPACK_VERSION/btfpack_$BTFPACK_VERSION-1_amd64.deb
#   BTFPACK_VERSION  (install) which btfpack release (default 0.1.0)
#   BTFPACK_PUBLISH_DIR  (scheduled) where published bundles live, kept
#                    between pipelines: NAME-vN.btfpack (a full version) and
#                    NAME-vN.supplement.btfpack; default public/bundles
#   BTFPACK_PUBLISH_MODE (scheduled) version: publish a new full version
#                    (default); supplement: publish a supplement of the
#                    newest full version (only kernels it lacks or changed)
#   BTFPACK_PUBLISH_CMD  (scheduled) run with the new file as $1 after it
#                    is published (e.g. upload it to a package registry)
#   BTFPACK_INSTALL  skip: install nothing (the image has it; btfpack's own
#                    test suite, which runs the pipeline with a shell
#                    executor on a machine that has btfpack and bpftool)
set -euo pipefail

step_install() {
  if [ "${BTFPACK_INSTALL:-}" = skip ]; then
    echo "local-run: BTFPACK_INSTALL=skip: using $(command -v "${BTFPACK:-btfpack}" || echo "${BTFPACK:-btfpack}") and $(command -v bpftool || echo "bpftool from PATH")"
    return
  fi
  local ver=${BTFPACK_VERSION:-0.1.0} deb=${BTFPACK_DEB:-}
  if [ -z "$deb" ]; then
    local committed=(ci/btfpack_*.deb)
    if [ -f "${committed[0]}" ]; then
      deb=${committed[0]}
    else
      deb=https://github.com/btfpack/btfpack/releases/download/v$ver/btfpack_$ver-1_amd64.deb
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends bpftool jq curl git ca-certificates >/dev/null
  case $deb in
  http://* | https://*)
    curl -fsSL --retry 3 -o /tmp/btfpack.deb "$deb" ||
      { echo "local-run: cannot download the btfpack .deb from $deb (set BTFPACK_DEB to a path in your repository or a reachable URL)" >&2; exit 1; }
    deb=/tmp/btfpack.deb ;;
  esac
  [ -f "$deb" ] || { echo "local-run: no btfpack .deb at $deb (set BTFPACK_DEB)" >&2; exit 1; }
  apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/dev/null
  btfpack --version
  bpftool version | head -n1
}

if [ "${1:-}" = install ]; then
  step_install
  exit 0
fi

CONFIG=${BTFPACK_CONFIG:-btfpack.json}
BTFPACK=${BTFPACK:-btfpack}
OUT=${OUT:-out}
read -r -a EXTRA <<<"${BTFPACK_BUILD_ARGS:-}"

die() { echo "local-run: $*" >&2; exit 1; }
[ -f "$CONFIG" ] || die "no configuration $CONFIG (set BTFPACK_CONFIG)"
command -v "$BTFPACK" >/dev/null || die "btfpack not found (set BTFPACK)"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# A throwaway key when none is configured (local runs, forks without the
# secret): the bundle is then only good for testing.
ensure_key() {
  if [ -z "${BTFPACK_SECRET_KEY:-}" ] && ! grep -q '"key_file"' "$CONFIG"; then
    if [ ! -f "$OUT/signer" ]; then
      mkdir -p "$OUT"
      "$BTFPACK" keygen --out "$OUT/signer" >/dev/null
      echo "local-run: no BTFPACK_SECRET_KEY, signing with a throwaway key $OUT/signer" >&2
    fi
    export BTFPACK_SECRET_KEY="$OUT/signer"
    : "${BTFPACK_PUBLIC_KEY:=$OUT/signer.pub}"
  fi
}

bundle_name() {
  # bundle.output of the configuration, or $OUT/bundle.btfpack
  local b
  b=$(jq -r '.bundle.output // empty' "$CONFIG" 2>/dev/null || true)
  if [ -n "$b" ]; then basename "$b"; else echo bundle.btfpack; fi
}

step_shard() {
  local k=$1 n=$2
  mkdir -p "$OUT/shards/$k" "$OUT/coverage"
  "$BTFPACK" build "$CONFIG" "${EXTRA[@]}" --shard "$k/$n" \
    --out "$OUT/shards/$k" --report "$OUT/coverage/shard-$k.json"
}

step_merge() {
  ensure_key
  local shards=("$OUT"/shards/*)
  [ -d "${shards[0]}" ] || die "no shard output under $OUT/shards"
  mkdir -p "$OUT/release"
  "$BTFPACK" build "$CONFIG" "${EXTRA[@]}" --merge "${shards[@]}" \
    --bundle "$OUT/release/$(bundle_name)" --report "$OUT/release/coverage.json"
  step_verify "$OUT/release/$(bundle_name)"
}

step_single() {
  ensure_key
  mkdir -p "$OUT/single"
  "$BTFPACK" build "$CONFIG" "${EXTRA[@]}" --bundle "$OUT/single/$(bundle_name)" \
    --report "$OUT/single/coverage.json"
  step_verify "$OUT/single/$(bundle_name)"
}

step_verify() {
  local f=$1
  if [ -n "${BTFPACK_PUBLIC_KEY:-}" ]; then
    "$BTFPACK" verify "$f" --key "$BTFPACK_PUBLIC_KEY"
  fi
  "$BTFPACK" -j inspect "$f" >"${f%.btfpack}.contents.json"
  sha256sum "$f" | tee "$f.sha256"
}

# published_version FILE: the bundle's version (0 when FILE is empty).
published_version() {
  if [ -z "$1" ]; then echo 0; else "$BTFPACK" -j inspect "$1" | jq -r .version; fi
}

# newest PATTERN...: the published file of the highest version, or nothing.
newest() {
  local f best="" bv=0 v
  for f in "$@"; do
    [ -f "$f" ] || continue
    v=$(published_version "$f")
    if [ "$v" -gt "$bv" ]; then best=$f bv=$v; fi
  done
  echo "$best"
}

# publish FILE: copy into the publish directory (atomically), verify, hook.
publish() {
  local f=$1 dst
  dst="$PUB/$(basename "$f")"
  [ -e "$dst" ] && die "$dst is already published: versions must increase"
  cp "$f" "$dst.tmp" && mv "$dst.tmp" "$dst"
  step_verify "$dst" >/dev/null
  echo "local-run: published $dst"
  if [ -n "${BTFPACK_PUBLISH_CMD:-}" ]; then bash -c "$BTFPACK_PUBLISH_CMD" publish "$dst"; fi
}

# unchanged_since OLD CAND: true (and says so) when `btfpack diff` finds
# CAND's kernels the same as OLD's; dies when diff itself fails.
unchanged_since() {
  local rc=0
  "$BTFPACK" diff "${keyarg[@]}" "$1" "$2" || rc=$?
  [ "$rc" -le 1 ] || die "btfpack diff $1 $2 failed (exit $rc)"
  [ "$rc" -eq 0 ] || return 1
  echo "local-run: no change since $1: nothing published"
}

# The scheduled job (e.g. nightly): kernels arrive in the archive after a
# release. Build against the current archive; publish only when `btfpack
# diff` (exit 0 same, 1 different) shows a change, with the version of the
# newest published bundle + 1, so versions only increase.
step_scheduled() {
  ensure_key
  PUB=${BTFPACK_PUBLISH_DIR:-public/bundles}
  local mode=${BTFPACK_PUBLISH_MODE:-version} name stem
  name=$(bundle_name) stem=${name%.btfpack}
  mkdir -p "$PUB" "$OUT/scheduled"
  local latest full prev next
  latest=$(newest "$PUB/$stem"-v*.btfpack)
  full=$(newest "$PUB/$stem"-v*[0-9].btfpack)
  prev=$(published_version "$latest")
  next=$((prev + 1))
  local keyarg=()
  [ -n "${BTFPACK_PUBLIC_KEY:-}" ] && keyarg=(--key "$BTFPACK_PUBLIC_KEY")
  if [ "$mode" = supplement ] && [ -n "$full" ]; then
    local cand="$OUT/scheduled/$stem-v$next.supplement.btfpack" log="$OUT/scheduled/build.log"
    if ! "$BTFPACK" build "$CONFIG" "${EXTRA[@]}" --bundle-version "$next" \
      --supplement-of "$full" --bundle "$cand" 2>&1 | tee "$log"; then
      if grep -q "no supplement written" "$log"; then
        echo "local-run: no kernel new or changed since $full: nothing published"
        return 0
      fi
      die "the scheduled build failed (see above)"
    fi
    # The newest supplement already published holds everything since the
    # base too: publish only when this one differs from it.
    local last
    last=$(newest "$PUB/$stem"-v*.supplement.btfpack)
    if [ -n "$last" ] && unchanged_since "$last" "$cand"; then
      return 0
    fi
    publish "$cand"
    return 0
  fi
  [ "$mode" = version ] || [ "$mode" = supplement ] || die "BTFPACK_PUBLISH_MODE is version or supplement, not $mode"
  local cand="$OUT/scheduled/$stem-v$next.btfpack"
  "$BTFPACK" build "$CONFIG" "${EXTRA[@]}" --bundle-version "$next" --bundle "$cand"
  # Against what hosts have: the newest full version (with its newest
  # supplement, which a full version replaces).
  if [ -n "$full" ] && unchanged_since "$full" "$cand"; then
    return 0
  fi
  publish "$cand"
}

case "${1:-}" in
  shard) [ $# -eq 3 ] || die "usage: local-run.sh shard K N"; step_shard "$2" "$3" ;;
  merge) step_merge ;;
  single) step_single ;;
  verify) [ $# -eq 2 ] || die "usage: local-run.sh verify FILE"; ensure_key; step_verify "$2" ;;
  all)
    n=${2:-2}
    ensure_key
    rm -rf "$OUT/shards"
    for k in $(seq 1 "$n"); do step_shard "$k" "$n"; done
    step_merge
    step_single
    if cmp "$OUT/release/$(bundle_name)" "$OUT/single/$(bundle_name)"; then
      echo "local-run: merged bundle of $n shards equals the single-machine bundle byte for byte"
    else
      die "merged bundle differs from the single-machine bundle"
    fi
    ;;
  scheduled) step_scheduled ;;
  *) sed -n '3,50p' "$0" >&2; exit 2 ;;
esac
