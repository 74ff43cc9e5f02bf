#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The command as users meet it (issue #19): each case runs the real
# `btfpack` (and btfpack-build, real bpftool) on the sample archive
# tests/data/archive and checks the exit status and the words of the
# message. Usage: cli_messages_test.sh BTFPACK BPF_OBJECT ARCHIVE
set -u
B=$1 OBJ=$2 ARCHIVE=$3
W=$(mktemp -d "${TMPDIR:-/tmp}/btfpack-cli-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
export BTFPACK_STORE=$W/store BTFPACK_KEYS_DIR=$W/keys \
  BTFPACK_CACHE_DIR=$W/syscache XDG_CACHE_HOME=$W/xdg
unset BTFPACK_BUILD_PROGRAM
failures=0 cases=0

# expect NAME STATUS 'WORDS' -- CMD...: CMD exits STATUS and its stdout+stderr
# contains WORDS (a fixed string; empty: anything).
expect() {
  local name=$1 want=$2 words=$3
  shift 4
  cases=$((cases + 1))
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ] || { [ -n "$words" ] && ! grep -qF -- "$words" <<<"$out"; }; then
    echo "FAIL $name: exit $rc (want $want), output:"
    sed 's/^/    /' <<<"$out"
    echo "    wanted the words: $words"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
# refute NAME 'WORDS' -- CMD...: the output must not contain WORDS.
refute() {
  local name=$1 words=$2
  shift 3
  cases=$((cases + 1))
  local out
  out=$("$@" 2>&1)
  if grep -qF -- "$words" <<<"$out"; then
    echo "FAIL $name: output has '$words':"
    sed 's/^/    /' <<<"$out"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

"$B" keygen --out rel >/dev/null || exit 1
"$B" keygen --out other >/dev/null || exit 1
mkdir -p keys && cp rel.pub keys/

# --- bpftool's conventions
expect unknown-command-nearest 2 "unknown command 'explian'; did you mean 'explain'?" -- "$B" explian
expect unknown-command-json 2 '"code":"usage"' -- "$B" -j explian
expect help-lists-commands 0 "rollback" -- "$B" help
expect help-cmd 0 "--kernel-release" -- "$B" help explain
expect help-build-side-cmd 0 "--allow-empty" -- "$B" help gen
expect prefix-host 0 "--prefer-bundle" -- "$B" exp --help
expect prefix-build-side 0 "--archive" -- "$B" ge --help
expect prefix-ambiguous 2 "'in' is ambiguous: it could be index, inspect, install" -- "$B" in
expect no-command 2 "a command is required" -- "$B"
expect gen-jobs-alias 0 "--jobs" -- "$B" gen --help
expect gen-option-aliases 0 "--cache-dir" -- "$B" gen --help
expect build-option-aliases 0 "--bundle-name" -- "$B" build --help

# --- selections that match nothing
expect gen-no-release 1 "no release matches 'nomatch*'" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --release 'nomatch*'
expect gen-no-distro 1 "no distro 'ubunt' in the archive $ARCHIVE; it has debian" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --distro ubunt
expect gen-no-version 1 "no version '13' under debian" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --distro debian --version 13
mkdir empty-archive
expect gen-empty-archive 1 "holds no kernels" -- "$B" gen --archive empty-archive --object "$OBJ"
expect gen-allow-empty 0 "0 kernels" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --release 'nomatch*' --allow-empty
expect fetch-no-distro 1 "no distro 'ubunt'" -- "$B" fetch --from "$ARCHIVE" --to mirror --distro ubunt
expect fetch-allow-empty 0 "of 0 selected" -- "$B" fetch --from "$ARCHIVE" --to mirror --distro ubunt --allow-empty
expect build-no-distro 1 "no distro 'ubunt'" -- "$B" build --archive "$ARCHIVE" --object "$OBJ" --key rel --bundle b.btfpack --distro ubunt
expect build-allow-empty 0 "" -- "$B" build --archive "$ARCHIVE" --object "$OBJ" --out empty-out --distro ubunt --allow-empty

# --- the coverage summary: CO-RE alternatives are one line, not findings
expect gen-alternatives-one-line 0 "task_struct (#3 task_struct___x, #4 task_struct___x, #5 task_struct___o, #6 task_struct___x): every kernel resolves one alternative" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --cache-dir cache
refute gen-alternatives-no-finding "finding:" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --cache-dir cache
refute gen-alternatives-no-module-hint "kernel-module type?" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --cache-dir cache

# --- outputs are created before any work, no temporary names
expect gen-creates-out 0 "" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --out gout/e --bundle out/b.btfpack --key rel --cache-dir cache -j 2 --bundle-version 1
[ -f gout/e/btfpack-report.json ] && [ -f out/b.btfpack ] || { echo "FAIL gen-creates-out: outputs missing"; failures=$((failures + 1)); }
: >afile
expect gen-out-not-dir 1 "--out afile/x: afile exists and is not a directory" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --out afile/x
refute gen-no-temp-name ".XXXXXX" -- "$B" gen --archive "$ARCHIVE" --object "$OBJ" --out afile/x
mkdir proj && cat >proj/btfpack.json <<JSON
{ "archive": { "dir": "$ARCHIVE" }, "objects": ["$OBJ"],
  "signing": { "key_file": "$W/rel" },
  "bundle": { "name": "my-agent", "version": 2, "output": "out/my-agent.btfpack" },
  "cache_dir": "$W/cache" }
JSON
expect build-default-config 0 "wrote ./out/my-agent.btfpack (my-agent version 2" -- bash -c "cd proj && '$B' build"
printf '{\n  "objects": ["a.o"],\n  "jobs": 2,,\n}\n' >bad.json
expect build-json-line-col 1 "bad.json: not valid JSON at line 3, column 13: syntax error while parsing object key" -- "$B" build bad.json
expect build-alias-name 0 "" -- "$B" build --archive "$ARCHIVE" --object "$OBJ" --key rel --bundle out/v3.btfpack --name my-agent --bundle-version 3 --expires 30d --cache "$W/cache" -j 1

# --- messages that point the right way
expect resolve-empty-store 1 "no bundle installed in $W/store" -- "$B" resolve --prefer-bundle
expect resolve-empty-store-hint 1 "install one with \`btfpack install BUNDLE\`" -- "$B" resolve --prefer-bundle
refute resolve-empty-store-once "open bundle $W/store/current: open bundle" -- "$B" resolve --prefer-bundle
expect install-wrong-key 1 "verify out/b.btfpack: out/b.btfpack" -- "$B" install out/b.btfpack --key other.pub
refute install-wrong-key-no-temp ".tmp-" -- "$B" install out/b.btfpack --key other.pub
head -c 900 out/b.btfpack >trunc.btfpack
expect verify-truncated 1 "truncated" -- "$B" verify trunc.btfpack --key rel.pub
expect verify-secret-key 1 "rel: this is a secret key; pass the public key" -- "$B" verify out/b.btfpack --key rel
expect verify-default-keys 0 "OK, signed by key" -- "$B" verify out/b.btfpack
expect host-root-missing 1 "host root /nonexistent is not a directory (--host-root)" -- "$B" resolve --host-root /nonexistent
expect inspect-created 0 "created:" -- "$B" inspect out/b.btfpack --key rel.pub
refute explain-created-never "created never" -- "$B" explain --bundle out/b.btfpack --prefer-bundle

# --- simulated hosts
expect explain-simulated-native-unknown 0 "native BTF      unknown" -- "$B" explain --bundle out/b.btfpack --kernel-release 5.10.0-32-amd64 --os-id debian --os-version-id 11
expect explain-simulated-proc-version 0 "not read: simulated kernel" -- "$B" explain --bundle out/b.btfpack --kernel-release 5.10.0-32-amd64 --os-id debian --os-version-id 11
expect explain-native-btf-override 0 "(--native-btf)" -- "$B" explain --bundle out/b.btfpack --kernel-release 5.10.0-32-amd64 --native-btf yes
expect resolve-simulated-private-cache 0 "not the system cache /var/cache/btfpack" -- env -u BTFPACK_CACHE_DIR "$B" resolve --bundle out/b.btfpack --kernel-release 5.10.0-32-amd64 --os-id debian --os-version-id 11
expect resolve-simulated-env-cache 0 "$W/syscache/" -- "$B" resolve --bundle out/b.btfpack --kernel-release 5.10.0-32-amd64 --os-id debian --os-version-id 11
rm -rf "${TMPDIR:-/tmp}"/btfpack-simulated-* 2>/dev/null
# explain agrees with itself; nearest entries and hints stay in the host's
# flavour and distro group and name archive paths that can exist.
X=(--bundle out/b.btfpack)
expect explain-native-no-match 0 "native: the kernel has its own BTF (--native-btf); the bundle has no match either" -- "$B" explain "${X[@]}" --kernel-release 5.99.0-1-amd64 --os-id debian --os-version-id 11 --native-btf yes
refute explain-native-no-match-no-prefer "no match either (--prefer-bundle uses it)" -- "$B" explain "${X[@]}" --kernel-release 5.99.0-1-amd64 --os-id debian --os-version-id 11 --native-btf yes
expect explain-native-would-give 0 "the bundle would give debian/11/x86_64/5.10.0-32-amd64 (--prefer-bundle uses it)" -- "$B" explain "${X[@]}" --kernel-release 5.10.0-32-amd64 --os-id debian --os-version-id 11 --native-btf yes
expect explain-one-side-candidate 1 "(distance 8 apart in part 4 (40 vs 32)); refused: the release has a neighbour on one side only" -- "$B" explain "${X[@]}" --kernel-release 5.10.0-40-amd64 --os-id debian --os-version-id 11 --allow-nearest
expect explain-one-side-decision 1 "--allow-nearest refused: the release has a neighbour on one side only" -- "$B" explain "${X[@]}" --kernel-release 5.10.0-40-amd64 --os-id debian --os-version-id 11 --allow-nearest
refute explain-one-side-no-one-btf "do not map to one BTF" -- "$B" explain "${X[@]}" --kernel-release 5.10.0-40-amd64 --os-id debian --os-version-id 11 --allow-nearest
expect nearest-own-flavour 1 "nearest entries: debian/12/x86_64/6.1.0-55-cloud-amd64;" -- "$B" resolve "${X[@]}" --kernel-release 6.1.0-60-cloud-amd64 --os-id debian --os-version-id 12
refute nearest-not-other-flavour "6.1.0-55-amd64" -- "$B" resolve "${X[@]}" --kernel-release 6.1.0-60-cloud-amd64 --os-id debian --os-version-id 12
expect nearest-plain-flavour 1 "nearest entries: debian/12/x86_64/6.1.0-55-amd64;" -- "$B" resolve "${X[@]}" --kernel-release 6.1.0-60-amd64 --os-id debian --os-version-id 12
expect nearest-own-distro 1 "nearest entries: none for amzn on x86_64;" -- "$B" resolve "${X[@]}" --kernel-release 4.14.336-257.562.amzn2.x86_64 --os-id amzn --os-version-id 2
refute nearest-not-other-distro "debian/1" -- "$B" resolve "${X[@]}" --kernel-release 4.14.336-257.562.amzn2.x86_64 --os-id amzn --os-version-id 2
expect nearest-id-like-group 1 "nearest entries: debian/11/x86_64, debian/12/x86_64;" -- "$B" resolve "${X[@]}" --kernel-release 6.12.9-amd64 --os-id kali --os-version-id 2025.1 --os-id-like debian
expect hint-id-like-archive 1 "check that the archive has centos/8/x86_64/4.18.0-513.5.1.el8_9.x86_64.btf.tar.xz" -- "$B" resolve "${X[@]}" --kernel-release 4.18.0-513.5.1.el8_9.x86_64 --os-id rocky --os-version-id 8.9 --os-id-like "rhel centos fedora"
refute hint-no-rocky-path "rocky/8.9/" -- "$B" resolve "${X[@]}" --kernel-release 4.18.0-513.5.1.el8_9.x86_64 --os-id rocky --os-version-id 8.9 --os-id-like "rhel centos fedora"
expect hint-family-archive 1 "check that the archive has centos/8/x86_64/4.18.0-425.3.1.el8.x86_64.btf.tar.xz" -- "$B" resolve "${X[@]}" --kernel-release 4.18.0-425.3.1.el8.x86_64 --os-id almalinux --os-version-id 8.7
expect hint-own-distro-kept 1 "check that the archive has amzn/2/x86_64/4.14.336-257.562.amzn2.x86_64.btf.tar.xz" -- "$B" resolve "${X[@]}" --kernel-release 4.14.336-257.562.amzn2.x86_64 --os-id amzn --os-version-id 2

# --- the store: names, rollback twice
expect install-v2 0 "installed my-agent version 2" -- "$B" install proj/out/my-agent.btfpack
expect install-v3 0 "installed my-agent version 3" -- "$B" install out/v3.btfpack
rm -rf keys.off && mv keys keys.off
expect list-unverified-name 0 "my-agent version 3" -- "$B" list
refute list-unverified-no-sanitized-name "my_agent version" -- "$B" list
mv keys.off keys
expect rollback-first 0 "rolled back: my-agent version 2" -- "$B" rollback
expect rollback-second-refused 1 "a second rollback would undo the first" -- "$B" rollback
expect rollback-second-names-install 1 "btfpack install $W/store/bundles/" -- "$B" rollback

echo "$cases cases, $failures failed"
[ "$failures" = 0 ]
