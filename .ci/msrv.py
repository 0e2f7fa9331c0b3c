#!/usr/bin/env python3
"""Fail when a locked dependency needs a newer Rust than the workspace's `rust-version`.

The workspace promises it builds with `rust-version`; that is only true if every package in
Cargo.lock (normal, build and dev dependencies, every platform) accepts that toolchain.
Reads `cargo metadata --locked`, so it needs no network and builds nothing.
"""

import json
import subprocess
import sys


def version(text):
    """`1.85` and `1.85.0` are the same toolchain."""
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--locked", "--format-version", "1"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(meta["workspace_members"])
    locked = {node["id"] for node in meta["resolve"]["nodes"]}
    declared = {
        p["rust_version"] for p in meta["packages"] if p["id"] in members and p["rust_version"]
    }
    if len(declared) != 1:
        sys.exit(f"msrv: workspace members declare {sorted(declared) or 'no'} rust-version; want one")
    (promised,) = declared
    needs = [
        (version(p["rust_version"]), p["name"], p["version"], p["rust_version"])
        for p in meta["packages"]
        if p["id"] in locked and p["id"] not in members and p["rust_version"]
    ]
    too_new = sorted(n for n in needs if n[0] > version(promised))
    if too_new:
        for _, name, ver, rv in too_new:
            print(f"msrv: {name} {ver} needs Rust {rv}", file=sys.stderr)
        sys.exit(f"msrv: Cargo.toml says rust-version = {promised}; raise it or pin the packages above")
    top = max(needs)
    print(f"msrv: rust-version {promised} covers Cargo.lock (highest: {top[1]} {top[2]}, Rust {top[3]})")


if __name__ == "__main__":
    main()
