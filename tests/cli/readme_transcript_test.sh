#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The README's first run, as a transcript: the ```sh block after the
# "<!-- transcript: ... -->" marker of README.md is read from README.md
# itself, each line run in order in a fresh directory on the sample archive,
# and the output (normalised: paths, key ids, digests, timings, byte sizes,
# which follow the objects' digests and so the build path) compared
# with the committed transcript. UPDATE_TRANSCRIPT=1 rewrites it (review
# the diff). Usage: readme_transcript_test.sh SOURCE_DIR BTFPACK BPF_OBJECT
set -u
SRC=$1 B=$2 OBJ=$3
README=$SRC/README.md
TRANSCRIPT=$SRC/tests/cli/readme-transcript.txt
W=$(mktemp -d "${TMPDIR:-/tmp}/btfpack-readme.XXXXXX")
trap 'rm -rf "$W"' EXIT
mapfile -t cmds < <(awk '/<!-- transcript: /{m=1; next} m && /^```sh/{on=1; next}
  on && /^```/{exit} on' "$README")
if [ "${#cmds[@]}" -lt 5 ]; then
  echo "FAIL: found ${#cmds[@]} commands after the transcript marker in $README"
  exit 1
fi
cd "$W" || exit 1
# A copy: `btfpack index archive` writes archive/index.json.
cp -r "$SRC/tests/data/archive" archive
cp "$OBJ" taskstate.bpf.o
cp "$SRC/tests/data/os-release/debian-12" os-release
export PATH=$(dirname "$B"):$PATH XDG_CACHE_HOME=$W/xdg-cache \
  BTFPACK_STORE=$W/store BTFPACK_KEYS_DIR=$W/keys \
  BTFPACK_CACHE_DIR=$W/syscache SOURCE_DATE_EPOCH=1700000000 COLUMNS=80
unset BTFPACK_BUILD_PROGRAM
{
  for c in "${cmds[@]}"; do
    echo "\$ $c"
    bash -c "$c" 2>&1
    echo "[exit $?]"
  done
} >raw.txt
# Normalise what differs between runs and machines.
sed -E -e "s#$W#WORKDIR#g" -e "s#$SRC#SRCDIR#g" \
  -e 's/\b[0-9A-F]{8,16}\b/KEYID/g' \
  -e 's/\b[0-9a-f]{12,64}\b/HEX/g' \
  -e 's/[0-9]+\.[0-9]+ s\b/T s/g' -e 's/in [0-9.]+ ms/in T ms/g' \
  -e 's/bpftool v[0-9.]+/bpftool vX/g' \
  -e 's/\(mtime [0-9]+\)/(mtime N)/g' \
  -e 's/\b[0-9]+ (B|bytes)\b/N \1/g' \
  raw.txt >got.txt
if [ "${UPDATE_TRANSCRIPT:-0}" = 1 ]; then
  cp got.txt "$TRANSCRIPT"
  echo "rewrote $TRANSCRIPT: review the diff"
  exit 0
fi
if ! diff -u "$TRANSCRIPT" got.txt; then
  echo "FAIL: the README's commands no longer print $TRANSCRIPT (above: -"
  echo "committed, + now); if the change is intended, rerun with"
  echo "UPDATE_TRANSCRIPT=1 and commit the reviewed transcript"
  exit 1
fi
echo "ok: ${#cmds[@]} README commands match $TRANSCRIPT"
