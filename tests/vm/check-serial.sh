#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Decides pass or fail from the VM's serial log (see vm-init.sh for the
# line format). Usage: check-serial.sh SCENARIO LOG RELEASE WRONG_RELEASE D/V/A
set -euo pipefail
SCENARIO=$1 LOG=$2 RELEASE=$3 WRONG_RELEASE=$4 DVA=$5

# The console turns \n into \r\n.
CLEAN=$(tr -d '\r' <"$LOG")
errors=0
bad() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }
ok() { echo "ok: $*"; }
marker() { grep -E "^@@VM@@ $1" <<<"$CLEAN" | head -1 | cut -d' ' -f3- || true; }
rc_of() { grep -E "^@@VM@@ $1 rc=" <<<"$CLEAN" | head -1 | sed 's/.*rc=//' || true; }
out_of() { grep -E "^$1\| " <<<"$CLEAN" | sed "s/^$1| //" || true; }
show() { echo "--- $1 (rc=$(rc_of "$1"))"; out_of "$1"; }

grep -q '^@@VM@@ begin' <<<"$CLEAN" ||
  { tail -40 <<<"$CLEAN" >&2; echo "FAIL: /init never started; serial log: $LOG" >&2; exit 1; }
grep -q '^@@VM@@ end' <<<"$CLEAN" ||
  { tail -40 <<<"$CLEAN" >&2; echo "FAIL: /init did not finish; serial log: $LOG" >&2; exit 1; }

[ "$(marker uname-r)" = "$RELEASE" ] && ok "kernel $RELEASE booted" ||
  bad "uname -r in the VM is '$(marker uname-r)', expected $RELEASE"
[ "$(marker native-btf)" = absent ] && ok "no /sys/kernel/btf/vmlinux" ||
  bad "the VM's kernel has native BTF: this test needs one without"

if [ "$SCENARIO" = exact ]; then
  show explain
  [ "$(rc_of explain)" = 0 ] || bad "btfpack explain failed"
  out_of explain | grep -q "$RELEASE" || bad "explain does not name $RELEASE"
  show resolve
  [ "$(rc_of resolve)" = 0 ] || bad "btfpack resolve failed"
  btf=$(marker resolved)
  case "$btf" in native | "") bad "resolve handed over '$btf', expected a bundle BTF path" ;; esac
else
  show resolve
  [ "$(rc_of resolve)" != 0 ] && ok "resolve refused the bundle without $RELEASE" ||
    bad "resolve accepted a bundle that has only $WRONG_RELEASE"
  out_of resolve | grep -q "$RELEASE" || bad "the refusal does not name the host's release $RELEASE"
  show explain
  show resolve_nearest
  show resolve_forced
fi

if [ $errors -ne 0 ]; then
  echo "FAIL: $errors check(s) failed; serial log: $LOG" >&2
  exit 1
fi
echo "PASS: scenario $SCENARIO"
