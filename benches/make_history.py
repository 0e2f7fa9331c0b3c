#!/usr/bin/env python3
"""Generate a deterministic synthetic git history for memory and time scaling of
`unleak scan --git` (benches/RESULTS.md, "history scaling").

Usage: benches/make_history.py OUT_DIR [--commits N] [--seed S]

Writes a bare repository at OUT_DIR (which must not exist) through `git fast-import`, then
repacks it as `git gc` would (deltas of depth up to 50). The history has N commits on `main`
with a side branch merged every 100 commits, across 40 directories of text files; each commit
edits three files (append, rewrite or delete-and-add lines) and every 250th commit adds a
generated AWS-style key pair to a config file, removed again 10 commits later. The same
(N, seed) always gives the same objects, so runs at 1x, 4x and 16x N are comparable.
"""
import argparse
import os
import random
import subprocess
import sys

WORDS = (
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega vector buffer "
    "reader writer parser token config build cache index commit branch merge stream "
    "packet socket thread worker queue signal handle result error option value"
).split()
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"


def line(rng):
    n = rng.randint(3, 12)
    return "    " * rng.randint(0, 3) + " ".join(rng.choice(WORDS) for _ in range(n))


def key_pair(rng):
    key_id = "AKIA" + "".join(rng.choice(UPPER) for _ in range(16))
    secret = "".join(rng.choice(ALNUM) for _ in range(40))
    return f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if os.path.exists(args.out):
        sys.exit(f"make_history.py: {args.out} already exists")
    rng = random.Random(args.seed)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", args.out], check=True)
    files = {}
    for d in range(40):
        for f in range(8):
            files[f"src/d{d:02}/f{f}.txt"] = [line(rng) for _ in range(rng.randint(20, 120))]
    secrets = {}  # commit index at which to remove -> path

    out = []
    mark = 0

    def blob(text):
        nonlocal mark
        mark += 1
        data = text.encode()
        out.append(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")
        return mark

    def commit(ref, i, changes, parents):
        nonlocal mark
        mark += 1
        when = 1_600_000_000 + i * 3600
        msg = f"change {i}\n".encode()
        head = [
            b"commit %s\nmark :%d\n" % (ref.encode(), mark),
            b"author Dev <dev@example.com> %d +0000\n" % when,
            b"committer Dev <dev@example.com> %d +0000\n" % when,
            b"data %d\n%s" % (len(msg), msg),
        ]
        for n, p in enumerate(parents):
            head.append(b"%s :%d\n" % (b"from" if n == 0 else b"merge", p))
        out.append(b"".join(head) + b"".join(changes) + b"\n")
        return mark

    paths = sorted(files)
    main_tip = side_tip = None
    for i in range(args.commits):
        on_side = i % 100 >= 90
        changes = []
        for path in rng.sample(paths, 3):
            lines = files[path]
            op = rng.random()
            if op < 0.5:
                lines.extend(line(rng) for _ in range(rng.randint(1, 6)))
            elif op < 0.8:
                for _ in range(rng.randint(1, 4)):
                    lines[rng.randrange(len(lines))] = line(rng)
            else:
                del lines[rng.randrange(len(lines))]
                lines.insert(rng.randrange(len(lines)), line(rng))
            m = blob("\n".join(lines) + "\n")
            changes.append(b"M 100644 :%d %s\n" % (m, path.encode()))
        if i % 250 == 125:
            path = f"config/env{i}.ini"
            m = blob(key_pair(rng))
            changes.append(b"M 100644 :%d %s\n" % (m, path.encode()))
            secrets[i + 10] = path
        if i in secrets:
            changes.append(b"D %s\n" % secrets.pop(i).encode())
        if on_side:
            parents = [side_tip if side_tip else main_tip]
            side_tip = commit("refs/heads/side", i, changes, [p for p in parents if p])
        else:
            parents = [main_tip] if main_tip else []
            if side_tip and i % 100 == 0:
                parents.append(side_tip)
                side_tip = None
            main_tip = commit("refs/heads/main", i, changes, parents)
    stream = b"".join(out)
    subprocess.run(
        ["git", "-C", args.out, "fast-import", "--quiet", "--force"], input=stream, check=True
    )
    subprocess.run(["git", "-C", args.out, "repack", "-a", "-d", "-f", "-q", "--depth=50"], check=True)


if __name__ == "__main__":
    main()
