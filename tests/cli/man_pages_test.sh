#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Every command has packaging/man/btfpack-CMD.1 with EXAMPLES and
# ENVIRONMENT (BTFPACK_CACHE_DIR included), the error format quoted, and
# every option its --help lists; man renders it without warnings.
# Usage: man_pages_test.sh SOURCE_DIR BTFPACK
set -u
SRC=$1 B=$2
fail=0
cmds=$("$B" help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}')
[ -n "$cmds" ] || { echo "FAIL: no commands in btfpack help"; exit 1; }
for c in $cmds; do
  page=$SRC/packaging/man/btfpack-$c.1
  if [ ! -f "$page" ]; then
    echo "FAIL $c: no $page (scripts/gen-man-pages.py writes it)"
    fail=1
    continue
  fi
  text=$(MANWIDTH=200 man -l "$page" 2>/dev/null | col -b)
  for s in NAME SYNOPSIS OPTIONS EXAMPLES ENVIRONMENT "EXIT STATUS" BTFPACK_CACHE_DIR \
    '{"error": "message", "code": "name"}'; do
    grep -qF -- "$s" <<<"$text" || { echo "FAIL $c: page lacks '$s'"; fail=1; }
  done
  for o in $("$B" "$c" --help | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' | tr -d ' ,' | sort -u); do
    grep -qF -- "$o" <<<"$text" || { echo "FAIL $c: page lacks option $o"; fail=1; }
  done
  warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warn" ] || { echo "FAIL $c: man warns: $warn"; fail=1; }
  [ "$fail" = 1 ] || echo "ok   btfpack-$c.1"
done
grep -q 'btfpack-\*.1' "$SRC/packaging/CMakeLists.txt" || { echo "FAIL: packaging does not install btfpack-*.1"; fail=1; }
exit $fail
