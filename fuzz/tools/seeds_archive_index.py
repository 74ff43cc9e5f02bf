#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerate the seed corpora of the archive-index fuzz targets
(fuzz/corpus/{index_file,git_listing,kernel_release}/) from real data:
an index of ../shared/corpus/archive written by `btfpack index`, the recorded
listing tests/data/listing/corpus-tree.json and ../shared/corpus/INDEX.tsv.

usage: fuzz/tools/seeds_archive_index.py [BUILD_DIR]   (default: build)
"""
import json
import os
import subprocess
import sys
import tempfile

src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(src, "build")
btfpack = os.path.join(build, "cli", "btfpack")
archive = os.path.join(src, "..", "shared", "corpus", "archive")
d = os.path.join(src, "fuzz", "corpus")
for sub in ("index_file", "git_listing", "kernel_release"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)


def put(rel, text):
    with open(os.path.join(d, rel), "w") as f:
        f.write(text)


with tempfile.TemporaryDirectory() as tmp:
    idx = os.path.join(tmp, "index.json")
    subprocess.run([btfpack, "index", "--out", idx, archive], check=True,
                   stdout=subprocess.DEVNULL)
    lidx = os.path.join(tmp, "listing-index.json")
    subprocess.run([btfpack, "index", "--listing",
                    os.path.join(src, "tests/data/listing/corpus-tree.json"),
                    "--out", lidx], check=True, stdout=subprocess.DEVNULL)
    full = open(idx).read().splitlines()
    lst = open(lidx).read().splitlines()

# index files: written one entry per line, header line first, "]}" last
hdr, ents, tail = full[0], [l.rstrip(",") for l in full[1:-1]], full[-1]
pick = [ents[i] for i in (0, 17, 20, 27, 30, 60, 95, 100, 104) if i < len(ents)]
put("index_file/corpus-subset.json", hdr + "\n" + ",\n".join(pick) + "\n" + tail + "\n")
lents = [l.rstrip(",") for l in lst[1:-1]]
put("index_file/from-listing.json", lst[0] + "\n" + ",\n".join(lents[:4]) + "\n" + lst[-1] + "\n")
put("index_file/compact-empty.json",
    '{"schema":"btfpack-index","schema_version":1,"source":"","entries":[]}')
put("index_file/escapes-unknown.json", json.dumps({
    "schema_version": 1, "x": {"a": [1, True, None]},
    "source": "m\u00e9/\"q\"\\\n",
    "entries": [{"path": "ubuntu/20.04/x86_64/5.4.0-99-generic.btf.tar.xz",
                 "size": 0, "sha256": "", "extra": [[]], "mtime_ns": -5}]}))
put("index_file/corrupt-line3.json",
    hdr + "\n" + pick[0] + ",\n" + pick[1].replace('"size"', "size") + "\n]}\n")
put("index_file/schema-v2.json", '{"schema_version":2,"entries":[]}')

# listings
t = json.load(open(os.path.join(src, "tests/data/listing/corpus-tree.json")))
small = {"sha": t["sha"],
         "tree": t["tree"][:14] + [x for x in t["tree"] if "kylin" in x["path"]],
         "truncated": False}
put("git_listing/corpus-tree-part.json", json.dumps(small, indent=1))
put("git_listing/odd-entries.json", json.dumps({"sha": "0" * 40, "tree": [
    {"path": "README.md", "mode": "100644", "type": "blob", "size": 3, "sha": "a" * 40},
    {"path": ".github/workflows/ci.yml", "mode": "100644", "type": "blob", "size": 3, "sha": "b" * 40},
    {"path": "centos/8/aarch64/4.18.0-147.5.1.el8_1.aarch64.btf.tar.xz", "mode": "100644",
     "type": "blob", "size": 2507900, "sha": "c" * 40},
    {"path": "centos/8/arm64", "mode": "120000", "type": "blob", "size": 7, "sha": "d" * 40},
    {"path": "sub", "mode": "160000", "type": "commit", "sha": "e" * 40}], "truncated": False}))
put("git_listing/escape.json", json.dumps({"tree": [
    {"path": "../x/y/z/a.btf.tar.xz", "type": "blob", "size": 1, "sha": "f" * 40}]}))
put("git_listing/truncated.json", '{"sha":"x","tree":[],"truncated":true}')

# kernel releases: three per seed, '\n'-separated
rels = [l.split("\t")[4] for l in
        open(os.path.join(src, "..", "shared", "corpus", "INDEX.tsv")).read().splitlines()[1:]]
extra = ["5.4.0-1036-aws", "5.4.0-99-generic", "5.4.0-100-generic",
         "3.10.0-1160.el7.x86_64", "3.10.0-1160.2.1.el7.x86_64",
         "4.18.0-372.52.1.el8_6.x86_64", "5.4.17-2136.300.7.el8uek.x86_64",
         "6.2.9-300.fc38.x86_64", "5.3.18-150300.59.87-default",
         "4.18.0-305.rt7.72.el8.x86_64", "4.18.0-305.el8.x86_64+debug",
         "5.10.107-android13-4-00001-g1c3b5a7e9d2f", "6.8.0-1008-generic-64k",
         "4.19.0-6-686-pae", "5.10.0-0.bpo.15-amd64", "5.3.18-lp152.19-default",
         "6.1.34-59.116.amzn2023.x86_64"]
allr = extra + rels
for i in range(0, len(allr), 3):
    put("kernel_release/r%02d" % (i // 3), "\n".join(allr[i:i + 3]))
put("kernel_release/path",
    "debian/12/x86_64/6.12.107+deb12-amd64.btf.tar.xz\n6.12.107+deb12-amd64")
