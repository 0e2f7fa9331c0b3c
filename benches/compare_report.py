#!/usr/bin/env python3
"""Turn the runs recorded by compare.sh into Markdown tables.

Reads the per-run rows (label, tool, run, wall microseconds, peak RSS in KiB, exit code,
output file), parses each tool's JSON/JSONL findings, and prints per target: a timing
table (median wall time, MB/s, peak RSS, findings, time relative to unleak) and, when an
answer key is available, recall by file + line against it, overall and by secret type.

Only formatting and parsing live here; compare.sh owns building, installing and running.
"""
import argparse
import collections
import json
import os
import statistics
import sys

TOOL_NAMES = {
    "unleak": "unleak",
    "kingfisher": "Kingfisher",
    "betterleaks": "Betterleaks",
    "gitleaks": "gitleaks",
}
BASELINE_NAMES = {
    "dir": "`cat` of every file (reading only)",
    "git": "`git cat-file --batch-all-objects --batch` (reading only)",
    "path": "`cat` of every file (reading only)",
    "startup": "`/bin/true` (process start)",
}
# Exit codes that mean "ran fine" (findings are not failures).
OK_CODES = {"unleak": {0, 1}, "kingfisher": {0, 200}, "betterleaks": {0}, "gitleaks": {0}, "baseline": {0}}


def display(tool, mode):
    return BASELINE_NAMES[mode] if tool == "baseline" else TOOL_NAMES[tool]


# --- parsing each tool's findings into (path, first line, last line) -------------------


def load_json_or_jsonl(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    stripped = text.lstrip()
    if not stripped:
        return []
    if stripped[0] == "[" or (stripped[0] == "{" and "\n{" not in stripped.rstrip()):
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parse_unleak(docs):
    out = []
    for d in docs:
        items = d.get("findings", []) if "findings" in d else [d]
        for f in items:
            out.append(([(f["path"], f["line"], f.get("end_line", f["line"]))], []))
    return out


def parse_kingfisher(docs):
    out = []
    for d in docs:
        f = d.get("finding")
        if f is None:  # the closing summary record
            continue
        # A paired secret (the AWS secret key next to its key id) comes without a line:
        # it is matched by file and value.
        deps = [(f["path"], v) for v in (f.get("dependent_captures") or {}).values() if isinstance(v, str)]
        out.append(([(f["path"], f["line"], f["line"])], deps))
    return out


def parse_betterleaks(docs):
    out = []
    for d in docs:
        items = d.get("findings", []) if isinstance(d, dict) and "findings" in d else (d if isinstance(d, list) else [d])
        for f in items:
            locs = [f["location"]]
            for cs in f.get("component_sets") or []:
                locs += [c["location"] for c in cs.get("components") or [] if "location" in c]
            out.append(([(l["path"], l["start_line"], l.get("end_line", l["start_line"])) for l in locs], []))
    return out


def parse_gitleaks(docs):
    out = []
    for d in docs:
        for f in d if isinstance(d, list) else [d]:
            out.append(([(f["File"], f["StartLine"], f.get("EndLine", f["StartLine"]))], []))
    return out


PARSERS = {"unleak": parse_unleak, "kingfisher": parse_kingfisher, "betterleaks": parse_betterleaks, "gitleaks": parse_gitleaks}


def findings_of(tool, path, target):
    """A list of findings, each ([(relative path, line, end line)], [(relative path, value)])."""
    if tool not in PARSERS or not os.path.exists(path):
        return None
    try:
        found = PARSERS[tool](load_json_or_jsonl(path))
    except (ValueError, KeyError, TypeError) as e:
        print(f"compare_report: cannot parse {path}: {e}", file=sys.stderr)
        return None
    prefix = target.rstrip("/") + "/"
    rel = lambda p: p[len(prefix):] if p.startswith(prefix) else p.removeprefix("./")
    return [([(rel(p), a, b) for p, a, b in locs], [(rel(p), v) for p, v in vals]) for locs, vals in found]


# --- answer key ----------------------------------------------------------------------


def recall(found, key, mode):
    """Per type: (planted, found); plus decoys flagged and findings matching neither."""
    entries = [e for e in key["entries"] if mode == "git" or e.get("in_worktree", True)]
    by_file = collections.defaultdict(list)
    values = set()
    for locs, vals in found:
        for p, a, b in locs:
            by_file[p].append((a, b))
        values.update(vals)
    hit = lambda file, lo, hi: any(a <= hi and b >= lo for a, b in by_file.get(file, ()))
    per_type = collections.defaultdict(lambda: [0, 0])
    for e in entries:
        per_type[e["type"]][0] += 1
        per_type[e["type"]][1] += hit(e["file"], e["line"], e["end_line"]) or (e["file"], e["secret"]) in values
    decoys = key.get("decoys", [])
    decoys_hit = sum(hit(d["file"], d["line"], d["line"]) for d in decoys)
    known = collections.defaultdict(list)
    for e in entries:
        known[e["file"]].append((e["line"], e["end_line"]))
    for d in decoys:
        known[d["file"]].append((d["line"], d["line"]))
    other = sum(
        not any(a <= hi and b >= lo for p, a, b in locs for lo, hi in known.get(p, ()))
        for locs, _ in found
    )
    return per_type, (decoys_hit, len(decoys)), other


# --- formatting ----------------------------------------------------------------------


def fmt_time(us, mode):
    if mode == "startup":
        return f"{us / 1000:.1f} ms"
    s = us / 1e6
    return f"{s:.2f} s" if s < 100 else f"{s:.0f} s"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["dir", "git", "path", "startup"])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--commands", required=True)
    ap.add_argument("--versions", default="")
    ap.add_argument("--nproc", default="?")
    ap.add_argument("--load", default="", help="load averages around the runs")
    a = ap.parse_args()

    rows = collections.defaultdict(lambda: collections.defaultdict(list))
    order = []
    with open(a.runs) as f:
        for line in f:
            label, tool, run, wall_us, rss_kb, rc, out, cpu = line.rstrip("\n").split("\t")
            rows[label][tool].append({"wall": int(wall_us), "rss": int(rss_kb or 0), "rc": int(rc), "out": out,
                                      "cpu": float(cpu or 0)})
            if tool not in order:
                order.append(tool)
    targets = []
    with open(a.targets) as f:
        for line in f:
            label, target, nbytes, key = (line.rstrip("\n").split("\t") + [""] * 4)[:4]
            targets.append((label, target, int(nbytes or 0), key))

    load = f" (load average {a.load})" if a.load else ""
    print(f"Tools: {a.versions}. Machine: {a.nproc} cores{load}. Wall time, CPU time and peak RSS are "
          "medians; MB/s = 10^6 bytes of scanned content per second of median wall time; the last "
          "column is each tool's median wall time divided by unleak's (above 1 = slower than unleak).\n")
    for label, target, nbytes, key_path in targets:
        runs = rows.get(label, {})
        n_runs = max((len(v) for v in runs.values()), default=0)
        what = {"dir": "directory scan", "git": "full-history scan", "path": "scan",
                "startup": "start-up"}[a.mode]
        size = f", {nbytes / 1e6:,.0f} MB" if nbytes else ""
        print(f"### {what}: {label}{size} ({n_runs} run{'s' if n_runs != 1 else ''} of each tool, in alternation)\n")
        med = {t: statistics.median(r["wall"] for r in runs[t]) for t in order if t in runs}
        ref = med.get("unleak")
        found_by = {}
        out_rows = []
        for t in order:
            if t not in runs:
                continue
            rs = runs[t]
            wall = med[t]
            rss = statistics.median(r["rss"] for r in rs) / 1024
            bad = sorted({r["rc"] for r in rs if r["rc"] not in OK_CODES.get(t, {0})})
            counts = []
            for r in rs:
                fs = findings_of(t, r["out"], target)
                counts.append(None if fs is None else len(fs))
                if fs is not None and t not in found_by:
                    found_by[t] = fs
            if t == "baseline":
                findings = "–"
            elif counts[0] is None:
                findings = "?"
            else:
                findings = f"{counts[0]:,}" + ("" if len(set(counts)) == 1 else " (varies)")
            mbs = f"{nbytes / 1e6 / (wall / 1e6):,.0f}" if nbytes and wall else "–"
            ratio = f"{wall / ref:.2f}×" if ref else "–"
            walls = [r["wall"] for r in rs]
            spread = (", ".join(fmt_time(w, a.mode).split()[0] for w in walls) if len(walls) <= 5
                      else f"{fmt_time(min(walls), a.mode)} – {fmt_time(max(walls), a.mode)}")
            name = display(t, a.mode) + (f" **(exit {','.join(map(str, bad))}!)**" if bad else "")
            cpu = statistics.median(r["cpu"] for r in rs)
            cpu_s = f"{cpu * 1000:.0f} ms" if a.mode == "startup" else f"{cpu:.2f} s"
            out_rows.append([name, fmt_time(wall, a.mode), spread, mbs, cpu_s, f"{rss:,.0f} MB", findings, ratio])
        print(table(["tool", "median wall", "runs", "MB/s", "CPU (user+sys)", "peak RSS", "findings", "time ÷ unleak's"],
                    out_rows))
        print()
        peers = {t: med[t] for t in ("kingfisher", "betterleaks", "gitleaks") if t in med}
        if ref and peers:
            fastest = min(peers, key=peers.get)
            print(f"- speed-up of unleak over the fastest peer ({TOOL_NAMES[fastest]}): "
                  f"**{peers[fastest] / ref:.2f}×** ({fmt_time(peers[fastest], a.mode)} ÷ {fmt_time(ref, a.mode)})")
        if ref and "baseline" in med and a.mode != "startup":
            print(f"- unleak vs reading only: unleak takes **{ref / med['baseline']:.2f}×** the time of "
                  f"{BASELINE_NAMES[a.mode].split(' (')[0]} ({fmt_time(ref, a.mode)} ÷ {fmt_time(med['baseline'], a.mode)})")
        if ref and a.mode == "startup" and "baseline" in med:
            print(f"- unleak start-up minus process start: **{(ref - med['baseline']) / 1000:.1f} ms**")
        print()

        if key_path and os.path.exists(key_path) and found_by:
            with open(key_path) as f:
                key = json.load(f)
            results = {t: recall(fs, key, a.mode) for t, fs in found_by.items()}
            types = sorted(next(iter(results.values()))[0])
            planted = sum(v[0] for v in next(iter(results.values()))[0].values())
            print(f"Recall against the answer key ({planted:,} planted secrets, matched by file + line, or "
                  "by file + value for a paired secret a tool reports without a line; a finding on a "
                  "decoy line counts as a decoy flagged):\n")
            rec_rows = []
            for t, (per_type, (dh, dn), other) in results.items():
                got = sum(v[1] for v in per_type.values())
                rec_rows.append([display(t, a.mode), f"{got:,} / {planted:,}", f"**{100 * got / planted:.1f}%**",
                                 f"{dh} / {dn}", f"{other:,}"])
            print(table(["tool", "found", "recall", "decoys flagged", "findings on no planted or decoy line"], rec_rows))
            print()
            print(table(["type"] + [display(t, a.mode) for t in results],
                        [[ty + f" ({results[next(iter(results))][0][ty][0]})"]
                         + [f"{100 * r[0][ty][1] / max(r[0][ty][0], 1):.1f}%" for r in results.values()]
                         for ty in types]))
            print()

    if len(targets) > 1 and a.mode == "dir":
        print("### unleak as the corpus grows\n")
        scale_rows = []
        for label, target, nbytes, _ in targets:
            rs = rows.get(label, {}).get("unleak")
            if not rs:
                continue
            wall = statistics.median(r["wall"] for r in rs)
            base = rows[label].get("baseline")
            base_ratio = f"{wall / statistics.median(r['wall'] for r in base):.2f}×" if base else "–"
            fs = findings_of("unleak", rs[0]["out"], target)
            scale_rows.append([label, f"{nbytes / 1e6:,.0f} MB", fmt_time(wall, a.mode),
                               f"{nbytes / 1e6 / (wall / 1e6):,.0f}",
                               f"{statistics.median(r['cpu'] for r in rs):.2f} s",
                               f"{statistics.median(r['rss'] for r in rs) / 1024:,.0f} MB",
                               "?" if fs is None else f"{len(fs):,}", base_ratio])
        print(table(["corpus", "size", "median wall", "MB/s", "CPU (user+sys)", "peak RSS", "findings",
                     "time ÷ reading only"], scale_rows))
        print()

    print("Commands (TARGET = the corpus or repository, OUT = the output file):\n")
    with open(a.commands) as f:
        for line in f:
            tool, cmd = line.rstrip("\n").split("\t", 1)
            print(f"- {display(tool, a.mode)}: `{cmd}`")


if __name__ == "__main__":
    main()
