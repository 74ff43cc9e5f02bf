#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Decides pass or fail of a VM run from its serial log (vm-init.sh writes
# "<step>| output" lines and "@@VM@@ <step> rc=N" markers).
#   check-serial.sh --scenario exact|wrong-kernel --log FILE --release R
#                   --wrong-release W --wrong-same-folder 0|1
#                   --native absent|present [--api-loaders "A B"] [--tool 0|1]
#                   [--arch ARCH] [--objects-sha256 "D1 D2 ..."] [--confusion 0|1]
#                   [--go-agent 0|1]
set -euo pipefail
SCENARIO="" LOG="" RELEASE="" WRONG_RELEASE="" WRONG_SAME=1 NATIVE=absent
API_LOADERS="" TOOL=0 ARCH="" OBJECTS_SHA="" CONFUSION=0 GO_AGENT=0
while [ $# -gt 0 ]; do
  case "$1" in
  --scenario) SCENARIO=$2 ;;
  --log) LOG=$2 ;;
  --release) RELEASE=$2 ;;
  --wrong-release) WRONG_RELEASE=$2 ;;
  --wrong-same-folder) WRONG_SAME=$2 ;;
  --native) NATIVE=$2 ;;
  --api-loaders) API_LOADERS=$2 ;;
  --tool) TOOL=$2 ;;
  --arch) ARCH=$2 ;;
  --objects-sha256) OBJECTS_SHA=$2 ;;
  --confusion) CONFUSION=$2 ;;
  --go-agent) GO_AGENT=$2 ;;
  *) echo "check-serial: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

# The console turns \n into \r\n; kernel messages may interleave.
CLEAN=$(tr -d '\r' <"$LOG")
errors=0
bad() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }
ok() { echo "ok: $*"; }
marker() { grep -E "^@@VM@@ $1 " <<<"$CLEAN" | head -1 | cut -d' ' -f3- || true; }
ran() { grep -qE "^@@VM@@ $1 rc=" <<<"$CLEAN"; }
rc_of() { grep -E "^@@VM@@ $1 rc=" <<<"$CLEAN" | head -1 | sed 's/.*rc=\([0-9]*\).*/\1/' || true; }
secs_of() {
  grep -E "^@@VM@@ $1 rc=" <<<"$CLEAN" | head -1 |
    sed 's/.*t=\([0-9.]*\)\.\.\([0-9.]*\).*/\1 \2/' | awk '{printf "%.1f", $2 - $1}' || true
}
out_of() { grep -E "^$1\| " <<<"$CLEAN" | sed "s/^$1| //" || true; }
show() {
  echo "--- $1 (exit $(rc_of "$1"), $(secs_of "$1") s in the VM)"
  # Long JSON lines are cut here; the serial log has them whole.
  out_of "$1" | cut -c1-200 | sed 's/^/    /'
}
# outcomes STEP: "program=outcome ..." from btfpack-bpf-demo's JSON lines.
outcomes() {
  out_of "$1" | grep '^{' | sed -n 's/.*"outcome":"\([a-z_]*\)".*"program":"\([a-z]*\)".*/\2=\1/p' |
    tr '\n' ' ' | sed 's/ $//'
}
count_outcome() { outcomes "$1" | tr ' ' '\n' | grep -c "=$2\$" || true; }
# objects_ok STEP: every program's embedded object (object_sha256 of the
# loader's JSON lines) is one of this arch's builds the bundle was made for.
objects_ok() {
  [ -n "$OBJECTS_SHA" ] || return 0
  local d n=0
  for d in $(out_of "$1" | grep '^{' | sed -n 's/.*"object_sha256":"\([0-9a-f]*\)".*/\1/p'); do
    n=$((n + 1))
    case " $OBJECTS_SHA " in *" $d "*) ;; *)
      bad "$1: a program loaded object sha256 $d, not one of the $ARCH builds ($OBJECTS_SHA)"
      return 1 ;;
    esac
  done
  [ $n -gt 0 ] || { bad "$1: no object_sha256 in the loader's output"; return 1; }
  ok "$1: the $n programs loaded are the $ARCH builds the bundle was made for"
}

if ! grep -q '^@@VM@@ begin' <<<"$CLEAN"; then
  tail -40 <<<"$CLEAN" >&2
  echo "FAIL: /init never started (kernel or initramfs problem); serial log: $LOG" >&2
  exit 1
fi
if ! grep -q '^@@VM@@ end' <<<"$CLEAN"; then
  tail -40 <<<"$CLEAN" >&2
  echo "FAIL: /init did not finish (crashed or panicked); serial log: $LOG" >&2
  exit 1
fi

if [ "$(marker uname-r)" = "$RELEASE" ]; then ok "kernel $RELEASE booted"; else
  bad "uname -r in the VM is '$(marker uname-r)', expected $RELEASE"
fi
if [ -n "$ARCH" ]; then
  m=$(marker uname-m)
  case "$m" in aarch64) m=arm64 ;; amd64) m=x86_64 ;; esac
  if [ "$m" = "$ARCH" ]; then ok "the VM is $(marker uname-m)"; else
    bad "uname -m in the VM is '$(marker uname-m)', expected $ARCH"
  fi
fi
if [ "$(marker native-btf)" = "$NATIVE" ]; then ok "native BTF (/sys/kernel/btf/vmlinux) $NATIVE"; else
  bad "native BTF is $(marker native-btf) in the VM, expected $NATIVE"
fi

# demo_expect_wrong STEP: the other kernel's BTF must give wrong values
# (exit 1), a failed load (3) or no event (4): never a pass.
demo_expect_wrong() {
  show "$1"
  local rc
  rc=$(rc_of "$1")
  case "$rc" in
  1 | 3 | 4) ok "$2: the loader fails as expected (exit $rc: $(outcomes "$1"))" ;;
  0) bad "$2: the loader passed with another kernel's BTF: the wrong-kernel check proves nothing" ;;
  *) bad "$2: the loader could not run (exit ${rc:-none})" ;;
  esac
}

if [ "$SCENARIO" = exact ]; then
  if [ "$NATIVE" = absent ]; then
    show demo_native
    if [ "$(rc_of demo_native)" = 3 ] && [ "$(count_outcome demo_native load_failed)" -ge 1 ]; then
      ok "without a BTF the programs do not load ($(outcomes demo_native))"
    else
      bad "the loader without a BTF should fail to load (exit 3), got exit $(rc_of demo_native)"
    fi
  fi
  show explain
  [ "$(rc_of explain)" = 0 ] || bad "btfpack explain failed (exit $(rc_of explain))"
  out_of explain | grep -qF "$RELEASE" || bad "btfpack explain does not name the kernel $RELEASE"
  show explain_json
  [ "$(rc_of explain_json)" = 0 ] || bad "btfpack -j explain failed (exit $(rc_of explain_json))"
  show resolve
  btf=$(marker resolved)
  if [ "$(rc_of resolve)" = 0 ] && [ -n "$btf" ] && [ "$btf" != native ]; then
    ok "btfpack resolve chose a bundle BTF: $btf"
  else
    bad "btfpack resolve should print a BTF path (exit $(rc_of resolve), last line '$btf')"
  fi
  show demo_resolved
  n=$(count_outcome demo_resolved pass)
  if [ "$(rc_of demo_resolved)" = 0 ] && [ "$n" -ge 3 ]; then
    ok "the bpf/ programs load with the resolved BTF and read correct values ($(outcomes demo_resolved))"
    objects_ok demo_resolved || true
  else
    bad "the bpf/ programs with the resolved BTF: exit $(rc_of demo_resolved), $(outcomes demo_resolved)"
  fi
  for l in $API_LOADERS; do
    show "api_$l"
    if [ "$(rc_of "api_$l")" = 0 ]; then
      ok "$l resolved through the runtime API and passed"
      objects_ok "api_$l" || true
    else
      bad "$l (runtime API) failed with exit $(rc_of "api_$l")"
    fi
  done
  if [ "$TOOL" = 1 ]; then
    show tool
    # "sleep  pid P core_pid C state S (tp T, __state) reset_on_fork R"
    lines=$(out_of tool | grep -E '^sleep +pid ' || true)
    n=$(grep -c . <<<"$lines" || true)
    wrong=$(awk '$3 != $5' <<<"$lines" | grep -c . || true)
    if [ "$(rc_of tool)" = 0 ] && [ "$n" -ge 1 ] && [ "$wrong" = 0 ]; then
      ok "the libbpf-tools-style tool (ensure_core_btf) read $n events, each CO-RE task->pid equal to the helper's pid"
    else
      bad "the libbpf-tools-style tool: exit $(rc_of tool), $n events, $wrong with a CO-RE task->pid that differs from the helper's"
    fi
  fi
  if [ "$CONFUSION" = 1 ]; then
    # refused STEP WHAT: exit non-zero, "arch mismatch" said, nothing loaded.
    refused() {
      show "$1"
      if ran "$1" && [ "$(rc_of "$1")" != 0 ] && out_of "$1" | grep -q 'arch mismatch' &&
        ! out_of "$1" | grep -q '"outcome"'; then
        ok "arch confusion refused before any load: $2"
      else
        bad "arch confusion not refused: $2 (exit $(rc_of "$1"))"
      fi
    }
    for l in $API_LOADERS; do
      refused "confusion_api_$l" "$l (C API) with the other arch's build of an object"
    done
    refused confusion_object "btfpack resolve --object with the other arch's build"
    refused confusion_entry "btfpack resolve of the other arch's entry for this arch's object"
  fi
  if [ "$GO_AGENT" = 1 ]; then
    show go_agent
    if [ "$(rc_of go_agent)" = 0 ] && out_of go_agent | grep -q '^nspid: values correct' &&
      out_of go_agent | grep -q '^btf: /'; then
      ok "the Go agent (cilium/ebpf, btf.LoadSpec + KernelTypes) read correct values with the BTF btfpack resolved"
    else
      bad "the Go agent: exit $(rc_of go_agent), $(out_of go_agent | tail -1)"
    fi
  fi
else
  show resolve
  if [ "$(rc_of resolve)" != 0 ] && ran resolve; then
    ok "btfpack resolve refused a bundle that has only $WRONG_RELEASE"
  else
    bad "btfpack resolve accepted a bundle without $RELEASE (exit $(rc_of resolve))"
  fi
  out_of resolve | grep -qF "$RELEASE" ||
    bad "the refusal does not name the host's kernel $RELEASE"
  show explain
  out_of explain | grep -qF "$RELEASE" || bad "btfpack explain does not name the kernel $RELEASE"
  # A kernel in the host's own distro/version/arch folder is a candidate
  # that explain must show turned down; one elsewhere is only "nearest".
  if [ "$WRONG_SAME" = 1 ]; then
    out_of explain | grep -qF "$WRONG_RELEASE" ||
      bad "btfpack explain does not show the candidate $WRONG_RELEASE it turned down"
  fi
  show resolve_nearest
  if [ "$(rc_of resolve_nearest)" = 0 ]; then
    echo "note: --allow-nearest picked $(marker nearest)"
    demo_expect_wrong demo_nearest "--allow-nearest"
  else
    ok "--allow-nearest refused too (no neighbours that agree)"
  fi
  for l in $API_LOADERS; do
    show "api_$l"
    if [ "$(rc_of "api_$l")" = 6 ] && out_of "api_$l" | grep -qF "$RELEASE"; then
      ok "$l: btfpack_ensure_core_btf refused and said why"
    else
      bad "$l: btfpack_ensure_core_btf should refuse naming $RELEASE (exit 6), got exit $(rc_of "api_$l")"
    fi
  done
  # With native BTF present ensure_core_btf rightly uses it: no refusal.
  if [ "$TOOL" = 1 ] && [ "$NATIVE" = absent ]; then
    show tool
    if [ "$(rc_of tool)" != 0 ] && out_of tool | grep -qF "$RELEASE"; then
      ok "the libbpf-tools-style tool refused to run and said why"
    else
      bad "the libbpf-tools-style tool should fail naming $RELEASE, got exit $(rc_of tool)"
    fi
  fi
  show resolve_forced
  if [ "$(rc_of resolve_forced)" = 0 ]; then
    demo_expect_wrong demo_forced "forced $WRONG_RELEASE"
  else
    bad "could not resolve $WRONG_RELEASE with --kernel-release (exit $(rc_of resolve_forced))"
  fi
fi

up=$(grep -E '^@@VM@@ uptime ' <<<"$CLEAN" | cut -d' ' -f3 | tr '\n' ' ' || true)
echo "VM uptime when /init started and ended: ${up% } (s)"
if [ $errors -ne 0 ]; then
  echo "FAIL: $errors check(s) failed; serial log: $LOG" >&2
  exit 1
fi
echo "PASS: scenario $SCENARIO; serial log: $LOG"
