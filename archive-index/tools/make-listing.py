#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write a GitHub-shaped recursive git tree listing of a local mirror.

The output has the shape of GitHub's
GET /repos/OWNER/REPO/git/trees/BRANCH?recursive=1 answer:
  {"sha": ROOT_TREE, "tree": [{"path","mode","type","sha","size"}...],
   "truncated": false}
with real git object ids (blob ids as `git hash-object` computes them, tree
ids as git would store the directory), in git's tree order, so tests and the
fetcher can use a recorded listing instead of the network.

usage: make-listing.py MIRROR_DIR [-o OUT.json]
The top-level index.json (btfpack's own index) and hidden entries (.git)
are left out, as they would not be in the archive repository.
"""
import argparse
import hashlib
import json
import os
import stat
import sys


def git_hash(kind, data):
    h = hashlib.sha1()
    h.update(b"%s %d\0" % (kind.encode(), len(data)))
    h.update(data)
    return h.hexdigest()


def blob_id_file(path):
    size = os.path.getsize(path)
    h = hashlib.sha1()
    h.update(b"blob %d\0" % size)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def walk(abs_dir, rel, out, top):
    """Returns the tree id of abs_dir; appends its entries (preorder) to out."""
    items = []
    for name in os.listdir(abs_dir):
        if name.startswith("."):
            continue
        if top and name == "index.json":
            continue
        p = os.path.join(abs_dir, name)
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            items.append((name + "/", name, "tree", p, st))
        elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
            items.append((name, name, "blob", p, st))
    # git orders tree entries by name, comparing directories as "name/".
    items.sort(key=lambda t: t[0].encode())
    raw = b""
    for _, name, kind, p, st in items:
        path = rel + name
        if kind == "tree":
            entry = {"path": path, "mode": "040000", "type": "tree", "sha": None}
            out.append(entry)
            sha = walk(p, path + "/", out, False)
            entry["sha"] = sha
            mode = b"40000"
        else:
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(p).encode()
                sha, size, mode = git_hash("blob", target), len(target), b"120000"
            else:
                sha, size = blob_id_file(p), st.st_size
                mode = b"100755" if st.st_mode & 0o111 else b"100644"
            out.append({"path": path, "mode": mode.decode(), "type": "blob",
                        "sha": sha, "size": size})
        raw += mode + b" " + name.encode() + b"\0" + bytes.fromhex(sha)
    return git_hash("tree", raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mirror")
    ap.add_argument("-o", "--out", help="output file (default: stdout)")
    a = ap.parse_args()
    if not os.path.isdir(a.mirror):
        sys.exit("make-listing: %s: not a directory" % a.mirror)
    tree = []
    root = walk(a.mirror, "", tree, True)
    doc = {"sha": root, "tree": tree, "truncated": False}
    text = json.dumps(doc, indent=1) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
