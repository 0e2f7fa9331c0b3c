#!/usr/bin/env python3
"""Risk items located in a benchmark of leaked credential files, for unleak and its peers.

Recall can only be measured on data nobody here wrote. The public benchmark
Plazmaz/leaky-repo is a tree of files that tools and editors write (.netrc, .pgpass,
wp-config.php, FileZilla and deploy-plugin settings, shadow files...) with credentials in
them. This script runs unleak and every installed peer over a working tree of it, in one
run and offline, and prints per file and in total how many labelled risk lines each tool
locates, and how many findings stand on no risk line.

The labels file (benches/leakedfiles-labels.json) is a JSON list of
{path, line, kind, note}: kind is `risk` (a line holding a credential) or `informative`
(a user name, a host); it was written by reading each file and holds line numbers and a
short note, never a value. A finding locates a risk item when its lines (first to last:
a private key covers its block) include the item's line; each item counts once. A
finding that covers no risk line is counted as on an informative line or, covering no
labelled line at all, as a false alarm.

Nothing here prints a matched value: only paths, line numbers, rule ids and counts.

Usage:
  benches/leakedfiles.py --tree DIR [--labels FILE] [--unleak-bin BIN] [--tools LIST]
                         [--out FILE]

Make the tree outside the repository, e.g.
  mkdir -p /work/leaky && git --git-dir=<mirror of Plazmaz/leaky-repo> archive HEAD | tar -x -C /work/leaky

Peers are found as benches/realrepos.py finds them ($PEERS, /tmp/unleak-bench/peers or
/tmp/peers), with validation off; each tool runs inside `unshare -n` when available.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_report import load_json_or_jsonl  # noqa: E402
from realrepos import TOOLS, command, installed_tools, net_prefix  # noqa: E402

# The benchmark's own notes and scripts are not part of what it measures.
SKIP_DIRS = (".leaky-meta/", ".git/")


def parse(tool, out, target):
    """Findings as (relative path, first line, last line, rule id)."""
    if not os.path.exists(out):
        return []
    rows = []
    for d in load_json_or_jsonl(out):
        if tool == "unleak":
            items = d.get("findings", []) if "findings" in d else [d]
            rows += [(f["path"], f["line"], f.get("end_line", f["line"]), f["rule_id"]) for f in items]
        elif tool == "kingfisher":
            f = d.get("finding")
            if f is not None:
                # Kingfisher reports a start line only; a multi-line match counts there.
                rows.append((f["path"], f["line"], f["line"], d["rule"]["id"]))
        elif tool == "betterleaks":
            items = d.get("findings", []) if isinstance(d, dict) else d
            rows += [(f["location"]["path"], f["location"]["start_line"],
                      f["location"].get("end_line", f["location"]["start_line"]), f["rule_id"])
                     for f in items]
        elif tool == "gitleaks":
            rows += [(f["File"], f["StartLine"], f.get("EndLine", f["StartLine"]), f["RuleID"])
                     for f in (d if isinstance(d, list) else [d])]
    prefix = target.rstrip("/") + "/"
    rel = lambda p: p[len(prefix):] if p.startswith(prefix) else p.removeprefix("./")
    out = []
    for p, first, last, rule in rows:
        p = rel(p)
        if not p.startswith(SKIP_DIRS):
            out.append((p, int(first), max(int(first), int(last)), rule))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", required=True, help="working tree of Plazmaz/leaky-repo")
    ap.add_argument("--labels", default=os.path.join(HERE, "leakedfiles-labels.json"))
    ap.add_argument("--unleak-bin", default=os.path.join(HERE, "..", "target", "release", "unleak"))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--out", help="also write the Markdown tables here")
    args = ap.parse_args()

    tools, binaries = installed_tools(args.tools, args.unleak_bin, "leakedfiles")

    with open(args.labels) as f:
        labels = json.load(f)
    risk = collections.defaultdict(set)
    informative = collections.defaultdict(set)
    for e in labels:
        if e["kind"] not in ("risk", "informative"):
            sys.exit(f"leakedfiles: {args.labels}: unknown kind `{e['kind']}` for {e['path']}:{e['line']}")
        (risk if e["kind"] == "risk" else informative)[e["path"]].add(e["line"])
    target = os.path.abspath(args.tree)
    missing = [p for p in risk if not os.path.isfile(os.path.join(target, p))]
    if missing:
        sys.exit(f"leakedfiles: {args.tree} lacks labelled files ({', '.join(missing[:3])}…): is it the benchmark's tree?")

    net = net_prefix()
    found = {}
    scratch = tempfile.mkdtemp(prefix="unleak-leakedfiles-")
    try:
        for tool in tools:
            out = os.path.join(scratch, f"{tool}.json{'l' if tool in ('unleak', 'kingfisher') else ''}")
            r = subprocess.run(net + command(tool, binaries[tool], target, out),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            ok = {"unleak": (0, 1), "kingfisher": (0, 200)}.get(tool, (0,))
            if r.returncode not in ok:
                # stderr may quote the scanned files: only its exit code is shown.
                print(f"leakedfiles: {tool} exited {r.returncode}", file=sys.stderr)
            found[tool] = parse(tool, out, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    located = {}  # tool -> set of (path, line)
    stray = {}  # tool -> Counter of "informative" / "false alarm"
    alarms = {}  # tool -> [(path, line, rule)] on no labelled line
    for t in tools:
        hit, c, fa = set(), collections.Counter(), []
        for path, first, last, rule in found[t]:
            span = set(range(first, last + 1))
            on_risk = span & risk.get(path, set())
            hit |= {(path, line) for line in on_risk}
            if not on_risk:
                if span & informative.get(path, set()):
                    c["informative"] += 1
                else:
                    c["false alarm"] += 1
                    fa.append((path, first, rule))
        located[t], stray[t], alarms[t] = hit, c, fa

    total = sum(len(v) for v in risk.values())
    lines = []
    p = lines.append
    p(f"Risk items located in Plazmaz/leaky-repo ({total} labelled risk lines in "
      f"{len(risk)} files); tools: {', '.join(tools)}.\n")
    p("| file | risk lines | " + " | ".join(tools) + " |")
    p("|---|---|" + "---|" * len(tools))
    for path in sorted(risk):
        cells = [str(sum(1 for (fp, _) in located[t] if fp == path)) for t in tools]
        p(f"| {path} | {len(risk[path])} | " + " | ".join(cells) + " |")
    p(f"| **located** | **{total}** | " + " | ".join(f"**{len(located[t])}**" for t in tools) + " |")
    p("| findings on an informative line | | " + " | ".join(str(stray[t]["informative"]) for t in tools) + " |")
    p("| findings on no labelled line | | " + " | ".join(str(stray[t]["false alarm"]) for t in tools) + " |")
    p("| findings in all | | " + " | ".join(str(len(found[t])) for t in tools) + " |")
    for t in tools:
        if alarms[t]:
            p(f"\n{t} findings on no labelled line: " +
              ", ".join(f"{path}:{line} ({rule})" for path, line, rule in sorted(alarms[t])))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
