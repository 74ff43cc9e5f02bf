#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates tests/data/archive/, the committed sample of Debian-derived
# kernel BTFs in btfhub-archive layout, from the shared corpus, and checks
# every file against its pinned sha256 (tests/data/SOURCES.md lists the same).
#   tests/data/regen.sh [CORPUS_ARCHIVE]    (default ../shared/corpus/archive)
# Only Debian files may be committed (see ../shared/corpus/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:-$here/../../../shared/corpus/archive}
out=$here/archive

# path (btfhub layout)                                sha256 of the .btf.tar.xz
pinned=(
  "debian/11/x86_64/5.10.0-32-amd64.btf.tar.xz       f919650b567716bbc2956ef666e12574a1dd21acc30fbd88dbc65cf7c93b0488"
  "debian/12/x86_64/6.1.0-55-amd64.btf.tar.xz        745d77497d711bcadf2316596b00ea01b22943dd1b47850ba059a9b5682f8cf1"
  "debian/12/x86_64/6.1.0-55-cloud-amd64.btf.tar.xz  77d90ef083cff60a88b1505b631e921b5ecff9dbdf9864ae617529e204ca1280"
  "debian/12/arm64/6.1.0-55-arm64.btf.tar.xz         32dc55daeaeb1256dbea40725093b3ab910b0dea24caef9faca84ba536b23b07"
)

rm -rf "$out"
for entry in "${pinned[@]}"; do
  read -r path sum <<<"$entry"
  case $path in debian/*) ;; *) echo "regen: $path is not a Debian file" >&2; exit 1 ;; esac
  src=$corpus/$path
  [ -f "$src" ] || { echo "regen: $src not found (pass the corpus archive dir)" >&2; exit 1; }
  got=$(sha256sum "$src" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { echo "regen: $path: sha256 $got, pinned $sum" >&2; exit 1; }
  install -D -m 0644 "$src" "$out/$path"
  echo "$path $sum"
done
du -sh "$out"
