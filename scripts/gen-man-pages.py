#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Writes packaging/man/btfpack-CMD.1 for every command from the command's
# own --help (so every option is there, with its aliases) plus the
# examples and notes below. Run after changing options:
#   scripts/gen-man-pages.py build/cli/btfpack
# tests/cli/man_pages_test.sh fails when a page misses an option.
import os
import re
import subprocess
import sys

EXAMPLES = {
    "index": ["btfpack index mirror/", "btfpack -j index mirror/ > mirror/index.json"],
    "fetch": [
        "btfpack fetch --to mirror/ --distro ubuntu --version 20.04 --arch x86_64",
        "btfpack fetch --from https://example.org/btfhub --listing https://example.org/btfhub/index.json --to mirror/",
        "btfpack fetch --from /srv/btfhub --to mirror/ --dry-run",
    ],
    "gen": [
        "btfpack gen --archive mirror/ --object agent.bpf.o --out out/btfs",
        "btfpack gen --archive mirror/ --object agent.bpf.o --bundle out/agent.btfpack --key release --bundle-name agent --bundle-version 42 --valid-days 365",
        "btfpack gen --archive mirror/ --object agent.bpf.o --shard 2/4 --out shards/2",
        "btfpack gen --archive mirror/ --object agent.bpf.o --release '5.4.0-*-aws' --jobs 2",
        "btfpack gen --archive mirror/ --object agent.bpf.o --key release --supplement-of agent-v5.btfpack --bundle agent-v6.supplement.btfpack",
    ],
    "merge": ["btfpack merge shards/1 shards/2 shards/3 shards/4 --bundle out/agent.btfpack --key release"],
    "build": [
        "btfpack build                      # ./btfpack.json",
        "btfpack build btfpack.json --bundle-version 42",
        "btfpack build btfpack.json --shard 2/4 --out shards/2",
        "btfpack build btfpack.json --merge shards/* --bundle out/agent.btfpack",
        "btfpack build --archive mirror/ --object a.bpf.o --key release --bundle a.btfpack",
    ],
    "keygen": ["btfpack keygen --out release     # release (secret, 0600) and release.pub"],
    "sign": ["btfpack sign out/agent.btfpack --key release"],
    "verify": ["btfpack verify out/agent.btfpack --key keys/release.pub",
               "btfpack verify out/agent.btfpack          # keys of /etc/btfpack/keys"],
    "inspect": ["btfpack inspect out/agent.btfpack --key keys/release.pub",
                "btfpack -p inspect out/agent.btfpack"],
    "diff": ["btfpack diff agent-v5.btfpack agent-v6.btfpack --key keys/release.pub",
             "btfpack -j diff old.btfpack new.btfpack --key keys/release.pub || [ $? -eq 1 ]"],
    "resolve": [
        "btfpack resolve                           # the installed bundle, this host",
        "btfpack resolve --name agent-a            # the bundle installed as agent-a",
        "btfpack resolve --object tcpconn.bpf.o    # the bundle made for this object",
        "btfpack resolve --bundle agent.btfpack --key release.pub",
        "btfpack resolve --host-root /host --bundle /opt/agent/agent.btfpack --key /opt/agent/release.pub",
        "btfpack resolve --bundle agent.btfpack --kernel-release 4.14.200-155.322.amzn2.x86_64 --os-id amzn --os-version-id 2 --native-btf no",
    ],
    "explain": [
        "btfpack explain",
        "btfpack explain --bundle agent.btfpack --kernel-release 5.4.0-1036-aws --os-release /tmp/ubuntu-20.04",
        "btfpack -p explain --allow-nearest",
        "btfpack explain --bundle agent-v5.btfpack --supplement agent-v6.supplement.btfpack --key release.pub",
    ],
    "install": ["btfpack install agent.btfpack     # under its manifest name",
                "btfpack install agent.btfpack --key release.pub --store /var/lib/btfpack"],
    "list": ["btfpack list", "btfpack -j list    # names[] and bundles[]"],
    "rollback": ["btfpack rollback agent-a", "btfpack rollback    # the only name installed",
                 "btfpack list    # current and previous"],
    "remove": ["btfpack remove agent-a", "btfpack list    # removed  agent-a (highest version kept)"],
}

NOTES = {
    "diff": "Kernels are compared by their blob digest: + added (in NEW only), \\- removed (in OLD only), ~ changed (another minimized BTF). Exit status as diff(1): 0 no kernel differs, 1 some do, 2 trouble (a bundle that does not open or verify, a usage error). With \\fB\\-\\-key\\fR both bundles must verify; without it they are read UNVERIFIED, as inspect does.",
    "gen": "A selection that matches no kernel is an error naming the filter and what the archive holds; \\fB\\-\\-allow\\-empty\\fR accepts it. Output paths (\\fB\\-\\-out\\fR, \\fB\\-\\-bundle\\fR, \\fB\\-\\-report\\fR) are checked and their directories created before any work. \\fB\\-j N\\fR after the command is \\fB\\-\\-jobs\\fR; before it, \\fB\\-j\\fR is JSON.",
    "fetch": "A selection that matches no file is an error naming the filter and what the listing holds; \\fB\\-\\-allow\\-empty\\fR accepts it.",
    "build": "Without CONFIG, ./btfpack.json is read when there is one. The options and the configuration keys (docs/build-config.md) are one set: \\fB\\-\\-bundle\\-name\\fR (bundle.name), \\fB\\-\\-valid\\-days\\fR (bundle.valid_days), \\fB\\-\\-cache\\-dir\\fR (cache_dir), \\fB\\-\\-custom\\-kernels\\fR (custom_kernels), \\fB\\-\\-jobs\\fR (jobs); \\fB\\-\\-name\\fR, \\fB\\-\\-expires\\fR, \\fB\\-\\-cache\\fR, \\fB\\-\\-custom\\fR and \\fB\\-j\\fR are aliases. A configuration that is not valid JSON is reported with its line and column.",
    "resolve": "\\fB\\-\\-kernel\\-release\\fR, \\fB\\-\\-arch\\fR, \\fB\\-\\-os\\-release\\fR, \\fB\\-\\-os\\-id\\fR, \\fB\\-\\-os\\-version\\-id\\fR and \\fB\\-\\-os\\-id\\-like\\fR simulate another host: with \\fB\\-\\-kernel\\-release\\fR native BTF is \"unknown\" (this machine's /sys, /proc/version and build-id are not read) unless \\fB\\-\\-native\\-btf\\fR says, and a simulated resolve writes its BTF into \\fB\\-\\-cache\\-dir\\fR ($BTFPACK_CACHE_DIR when set) or a new $TMPDIR/btfpack\\-simulated\\-XXXXXX, never the system cache. \\fB\\-\\-host\\-root\\fR must exist; os-release, /sys and /proc are read under it, the store, keys and cache are not.",
    "rollback": "A second rollback in a row is refused: it would only return to the bundle the first one left (install that bundle again to return to it). With several names installed, NAME is required.",
    "install": "The bundle is installed under the name in its signed manifest; each name has its own current, previous and highest version, so one agent's bundle never replaces another's. The signer must be trusted for that name: a key in <keys>/<name>/ only for <name>, a key directly in <keys>/ for every name.",
    "remove": "The name's highest version stays recorded in names/<name>/highest-version: installing an older bundle of it later is refused as a downgrade (\\-\\-allow\\-downgrade to do it on purpose). Other names are not touched.",
    "verify": "A truncated or damaged file is reported as such, not only as a failed signature.",
}
NOTES["explain"] = NOTES["resolve"]

ENV = [
    ("BTFPACK_STORE", "bundle store instead of /var/lib/btfpack (install, list, rollback, remove; the bundles of resolve and explain). Not moved by \\-\\-host\\-root."),
    ("BTFPACK_KEYS_DIR", "trust policy directory instead of /etc/btfpack/keys (*.pub for every bundle name, <name>/*.pub for that name only). Not moved by \\-\\-host\\-root."),
    ("BTFPACK_CACHE_DIR", "root-owned cache directory where resolve writes the BTF file for btf_custom_path, instead of /var/cache/btfpack (\\-\\-cache\\-dir wins)."),
    ("XDG_CACHE_HOME, HOME", "the gen cache (build side) is $XDG_CACHE_HOME/btfpack, else ~/.cache/btfpack (\\-\\-cache\\-dir wins)."),
    ("BTFPACK_SECRET_KEY", "build: the secret key text or a path when the configuration names no key file (signing.key_env names another variable)."),
    ("SOURCE_DATE_EPOCH", "build: the creation time recorded in the bundle (reproducible builds)."),
    ("BTFPACK_BUILD_PROGRAM", "path of btfpack\\-build, which btfpack runs for index, fetch, gen, merge and build."),
    ("TMPDIR", "private temporary files (gen work directories, a simulated resolve's BTF)."),
    ("http_proxy, https_proxy, no_proxy", "fetch: proxies, as with curl."),
]


def esc(s):
    s = s.replace("\\", "\\\\").replace("-", "\\-")
    return s


def parse_help(text):
    lines = text.splitlines()
    desc = lines[0].strip() if lines else ""
    usage = next((l for l in lines if l.startswith("Usage:")), "")
    positionals, options = [], []
    section = None
    i = 0
    while i < len(lines):
        l = lines[i]
        s = l.strip()
        if s.startswith("Positionals:"):
            section = "pos"
        elif s.startswith("Options:"):
            section = "opt"
        elif s.startswith("[Option Group:"):
            section = "opt"
        elif section and s and (s.startswith("-") or section == "pos") and l.startswith("  "):
            parts = re.split(r"\s{2,}", s, maxsplit=1)
            head, d = parts[0], parts[1] if len(parts) > 1 else ""
            if not d and i + 1 < len(lines) and lines[i + 1].startswith(" " * 20):
                d = lines[i + 1].strip()
                i += 1
            (positionals if section == "pos" and not s.startswith("-") else options).append((head, d))
        i += 1
    return desc, usage, positionals, options


TYPES = {"TEXT:FILE": "FILE", "UINT:INT": "N", "TEXT": "VALUE", "UINT": "N",
         "INT": "N", "FLOAT": "NUM", "ENUM": "VALUE"}


def fmt_head(head):
    parts = head.split(" ", 1)
    names = ", ".join("\\fB" + esc(n) + "\\fR" for n in parts[0].split(","))
    rest = ""
    if len(parts) > 1:
        r = parts[1]
        for k, v in TYPES.items():
            r = re.sub(r"(?<![A-Z:])%s(?![A-Z:])" % re.escape(k), v, r)
        rest = " \\fI" + esc(r) + "\\fR"
    return names + rest


def page(btfpack, cmd):
    out = subprocess.run([btfpack, cmd, "--help"], capture_output=True, text=True,
                         env=dict(os.environ, COLUMNS="200")).stdout
    desc, usage, pos, opts = parse_help(out)
    syn = usage.replace("Usage: btfpack ", "").strip()
    syn = syn.replace(" [OPTIONS]", " [\\fIOPTIONS\\fR]")
    r = []
    r.append('.\\" SPDX-License-Identifier: Apache-2.0')
    r.append('.\\" Generated by scripts/gen-man-pages.py from `btfpack %s --help`.' % cmd)
    r.append('.TH BTFPACK\\-%s 1 "" "btfpack" "User Commands"' % esc(cmd.upper()))
    r.append(".SH NAME")
    r.append("btfpack\\-%s \\- %s" % (esc(cmd), esc(desc)))
    r.append(".SH SYNOPSIS")
    r.append(".B btfpack")
    r.append("[\\fB\\-j\\fR|\\fB\\-p\\fR] [\\fB\\-v\\fR] \\fB%s\\fR %s" % (esc(cmd), esc(syn.split(" ", 1)[1] if " " in syn else "").replace("\\\\fIOPTIONS\\\\fR", "\\fIOPTIONS\\fR")))
    r.append(".SH DESCRIPTION")
    r.append(esc(desc) + ".")
    if cmd in NOTES:
        r.append(".PP")
        r.append(NOTES[cmd])
    r.append(".PP")
    r.append("The command may be abbreviated to any unambiguous prefix; \\fBbtfpack help %s\\fR is \\fBbtfpack %s \\-\\-help\\fR." % (esc(cmd), esc(cmd)))
    if pos:
        r.append(".SH ARGUMENTS")
        for h, d in pos:
            r.append(".TP")
            r.append("\\fI" + esc(h.split(" ")[0]) + "\\fR")
            r.append(esc(d))
    r.append(".SH OPTIONS")
    r.append(".TP")
    r.append("\\fB\\-j\\fR, \\fB\\-\\-json\\fR (before the command)")
    r.append("JSON output, errors included.")
    r.append(".TP")
    r.append("\\fB\\-p\\fR, \\fB\\-\\-pretty\\fR (before the command)")
    r.append("pretty JSON (implies \\fB\\-j\\fR).")
    r.append(".TP")
    r.append("\\fB\\-v\\fR, \\fB\\-\\-verbose\\fR (before the command)")
    r.append("more messages (\\fB\\-vv\\fR: debug, including libbpf's).")
    for h, d in opts:
        r.append(".TP")
        r.append(fmt_head(h))
        r.append(esc(d))
    r.append(".SH EXAMPLES")
    for e in EXAMPLES[cmd]:
        r.append(".PP")
        r.append(".nf")
        r.append(".B " + esc(e).replace('"', '\\(dq'))
        r.append(".fi")
    r.append(".SH ENVIRONMENT")
    for name, d in ENV:
        r.append(".TP")
        r.append(".B " + esc(name))
        r.append(d)
    r.append(".SH EXIT STATUS")
    r.append("0 success, 1 failure, 2 usage error (an unknown command or option). Errors are printed on standard error as")
    r.append(".RS")
    r.append(".B Error: \\fImessage\\fR")
    r.append(".RE")
    r.append("and, with \\fB\\-j\\fR, on standard output as one JSON object:")
    r.append(".RS")
    r.append(".B {\\(dqerror\\(dq: \\(dq\\fImessage\\fB\\(dq, \\(dqcode\\(dq: \\(dq\\fIname\\fB\\(dq}")
    r.append(".RE")
    r.append(".SH SEE ALSO")
    r.append(".BR btfpack (1),")
    r.append(".BR bpftool (8),")
    r.append(".BR minisign (1)")
    return "\n".join(r) + "\n"


def main():
    btfpack = sys.argv[1]
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for cmd in EXAMPLES:
        path = os.path.join(src, "packaging", "man", "btfpack-%s.1" % cmd)
        with open(path, "w") as f:
            f.write(page(btfpack, cmd))
        print("wrote", path)


main()
