#!/usr/bin/env python3
"""Container-image benchmark (issue 19 item 5): generate a `docker save` tarball with
layers, whiteouts, archives inside archives and planted fake secrets, then run unleak and
the peers that can read such a tarball over it in one run: MB/s, peak RSS and which
planted secrets each found.

    benches/image_bench.py --unleak target/release/unleak [--mb 200] [--keep DIR]
                           [--unleak-threads 1]

Peers: Kingfisher (`scan docker --archive`, /tmp/peers/bin/kingfisher or $KINGFISHER) and
TruffleHog (`docker --image file://…`) when on PATH. Values are random and fake; none is
stored in the project."""

import argparse, gzip, hashlib, io, json, os, random, shutil, string, subprocess, sys
import tarfile, tempfile, time, zipfile, zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def b62(n):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out or "0"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def s(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def github(self):
        body = self.s(string.ascii_letters + string.digits, 30)
        return "ghp_" + body + b62(zlib.crc32(body.encode()) & 0xFFFFFFFF).rjust(6, "0")

    def slack(self):
        return "xoxb-%s-%s-%s" % (self.s(string.digits, 12), self.s(string.digits, 13),
                                  self.s(string.ascii_letters + string.digits, 24))

    def stripe(self):
        return "sk_live_" + self.s(string.ascii_letters + string.digits, 24)

    def aws(self):
        return ("AKIA" + self.s(string.ascii_uppercase + "234567", 16),
                self.s(string.ascii_letters + string.digits + "+/", 40))


def tar_bytes(files, compress=False):
    """files: list of (path, bytes) or (path, None) for an empty whiteout marker."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for path, data in files:
            info = tarfile.TarInfo(path)
            data = data or b""
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, 1) if compress else raw


def filler(g, n_bytes):
    words = ["return", "value", "config", "client", "request", "handler", "for", "if",
             "import", "def", "self", "data", "items", "name", "path", "error"]
    lines, size = [], 0
    while size < n_bytes:
        line = "    " + " ".join(g.r.choice(words) for _ in range(10)) + "\n"
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()


def generate(out, mb, seed=19):
    """Write OUT (a docker-save tarball); return the planted secrets as
    [{"id", "value", "where", "kind"}]."""
    g = Gen(seed)
    planted = []

    def plant(kind, value, where):
        planted.append({"id": len(planted), "kind": kind, "value": value, "where": where})
        return value

    # Layer 1: a base filesystem of source-like filler (most of the bytes).
    per_file = 256 * 1024
    base = [("usr/share/app/src%04d.py" % i, filler(g, per_file))
            for i in range(max(1, mb * 1024 * 1024 // per_file))]
    # Layer 2: the app, with secrets in plain files.
    gh = plant("github", g.github(), "layer 2 app/.env (deleted by layer 4: whiteout)")
    slack = plant("slack", g.slack(), "layer 2 app/config.yml")
    key_id, secret = g.aws()
    plant("aws-id", key_id, "layer 2 srv/creds (directory made opaque by layer 4)")
    layer2 = [("app/.env", ("GITHUB_TOKEN=%s\n" % gh).encode()),
              ("app/config.yml", ("slack:\n  bot_token: %s\n" % slack).encode()),
              ("srv/creds", ("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                             % (key_id, secret)).encode())]
    # Layer 3: archives inside the layer: a tar.gz holding a zip holding a file.
    stripe = plant("stripe", g.stripe(), "layer 3 opt/bundle.tar.gz!plugin.zip!settings.ini")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("settings.ini", "[billing]\nstripe_key = %s\n" % stripe)
    inner = tar_bytes([("plugin.zip", z.getvalue())], compress=True)
    gh2 = plant("github", g.github(), "layer 3 opt/app.jar!BOOT-INF/application.properties")
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("BOOT-INF/application.properties", "github.token=%s\n" % gh2)
    layer3 = [("opt/bundle.tar.gz", inner), ("opt/app.jar", jar.getvalue())]
    # Layer 4: deletes app/.env (whiteout) and empties srv/ (opaque whiteout).
    layer4 = [("app/.wh..env", None), ("srv/.wh..wh..opq", None),
              ("app/README", b"nothing here\n")]
    # The config: ENV and a build ARG carry secrets too.
    env_token = plant("github", g.github(), "config Env GITHUB_TOKEN")
    arg_token = plant("slack", g.slack(), "config history RUN |1 SLACK_TOKEN=…")
    layers = [tar_bytes(l) for l in (base, layer2, layer3, layer4)]
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD file:base in / "},
        {"created_by": "/bin/sh -c #(nop)  ENV GITHUB_TOKEN=%s" % env_token, "empty_layer": True},
        {"created_by": "COPY app /app # buildkit"},
        {"created_by": "ARG SLACK_TOKEN", "empty_layer": True},
        {"created_by": "RUN |1 SLACK_TOKEN=%s /bin/sh -c make bundle # buildkit" % arg_token},
        {"created_by": "RUN /bin/sh -c rm -rf /app/.env /srv/* # buildkit"},
    ]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin", "GITHUB_TOKEN=%s" % env_token],
                   "Labels": {"maintainer": "bench"}},
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": ["bench/app:1"],
                 "Layers": ["%s/layer.tar" % d[7:] for d in diff_ids]}]
    with tarfile.open(out, "w") as t:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        add(config_name, config)
        for d, l in zip(diff_ids, layers):
            add("%s/layer.tar" % d[7:], l)
        add("manifest.json", json.dumps(manifest).encode())
    return planted


def timed(cmd, env=None):
    """Run CMD under /usr/bin/time -v: (stdout, seconds, peak RSS in MB, exit code, stderr,
    CPU seconds: user + system, what a loaded machine does not inflate as it does wall)."""
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, env=env)
    secs = time.monotonic() - start
    rss, cpu = 0.0, 0.0
    for line in p.stderr.decode(errors="replace").splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1]) / 1024
        if "User time (seconds)" in line or "System time (seconds)" in line:
            cpu += float(line.split(":")[1])
    return (p.stdout.decode(errors="replace"), secs, rss, p.returncode,
            p.stderr.decode(errors="replace"), cpu)


def found(planted, text):
    return sorted(p["id"] for p in planted if p["value"] in text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--unleak", required=True)
    ap.add_argument("--mb", type=int, default=200, help="MB of filler in the base layer")
    ap.add_argument("--keep", help="write the image into DIR and keep it")
    ap.add_argument("--json", help="write the results to FILE")
    ap.add_argument("--unleak-threads", type=int, action="append", default=[],
                    help="also run unleak with -j N (repeatable), to see what threads add")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="unleak-image-bench-")
    os.makedirs(work, exist_ok=True)
    image = os.path.join(work, "bench-image.tar")
    planted = generate(image, a.mb)
    size_mb = os.path.getsize(image) / 1e6
    runs = []
    # --show-secrets only so the check can tell which planted value was found.
    runs.append(("unleak", [a.unleak, "scan", "--image", image, "--format", "json",
                            "--show-secrets"]))
    for n in a.unleak_threads:
        runs.append(("unleak -j %d" % n, runs[0][1] + ["-j", str(n)]))
    kf = os.environ.get("KINGFISHER", "/tmp/peers/bin/kingfisher")
    if os.path.exists(kf):
        runs.append(("kingfisher", [kf, "scan", "docker", "--archive", image, "--format",
                                    "json", "--no-validate", "--no-update-check"]))
    th = shutil.which("trufflehog")
    if th:
        runs.append(("trufflehog", [th, "docker", "--image", "file://" + image, "--json",
                                    "--no-verification", "--no-update"]))
    results = []
    for name, cmd in runs:
        out, secs, rss, rc, err, cpu = timed(cmd)
        hit = found(planted, out)
        results.append({"tool": name, "seconds": round(secs, 2), "cpu_seconds": round(cpu, 2),
                        "mb_per_s": round(size_mb / secs, 1),
                        "peak_rss_mb": round(rss, 1), "exit": rc, "found": hit,
                        "missed": [p["where"] for p in planted if p["id"] not in hit]})
        if rc not in (0, 1, 200, 205):
            print("%s exited %d: %s" % (name, rc, err[-400:]), file=sys.stderr)
    print("image: %.1f MB, %d planted secrets" % (size_mb, len(planted)))
    print("| tool | wall s | CPU s | MB/s | peak RSS MB | planted found |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print("| %s | %.2f | %.2f | %.1f | %.0f | %d/%d |" % (
            r["tool"], r["seconds"], r["cpu_seconds"], r["mb_per_s"], r["peak_rss_mb"],
            len(r["found"]), len(planted)))
    for r in results:
        for m in r["missed"]:
            print("%s missed: %s" % (r["tool"], m))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"image_mb": size_mb, "planted": len(planted), "results": results}, f, indent=1)
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
