#!/usr/bin/env python3
"""Write a labelled evaluation corpus of fake secrets and hard decoys, with its answer key.

Owns: the corpus tree (file types a secret scanner meets in the wild) and the answer key.
Does not own: scoring (see score.py) or any knowledge of unleak's rules. Every secret value
here is built from a vendor's publicly documented format (prefix, length, alphabet,
checksum) or is a random credential under a secret-like key; nothing is read from rules/.

Usage: make_eval_corpus.py --out DIR --key KEY.json --seed N [--scale K]

The key lists every planted positive (path, line, end_line, family, kind, value) and every
planted decoy (path, line, end_line, family, kind). All other lines are unlabelled filler;
the scorer counts findings on them separately. The output is a pure function of --seed and
--scale.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import random
import string
import sys
import urllib.parse
import uuid

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"
URLSAFE = string.ascii_letters + string.digits + "-_"
B32 = string.ascii_uppercase + "234567"


class Gen:
    """Value generators, each from a documented token format."""

    def __init__(self, rng: random.Random):
        self.r = rng

    def s(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    # --- checksummed GitHub-style tokens: prefix + 30 base62 + base62(crc32) padded to 6
    @staticmethod
    def b62(n, width):
        out = ""
        while n:
            n, d = divmod(n, 62)
            out = B62[d] + out
        return out.rjust(width, "0")

    def crc_token(self, prefix, bad=False):
        body = self.s(ALNUM, 30)
        crc = binascii.crc32(body.encode()) & 0xFFFFFFFF
        if bad:
            crc ^= 0x5A5A5A5A
        return prefix + body + self.b62(crc, 6)

    # --- positives by family: (family, kind) -> value
    def cloud(self):
        k = self.r.choice(["aws_id", "aws_secret", "gcp_key", "azure_storage", "do_token", "gcp_sa"])
        if k == "aws_id":
            return k, self.r.choice(["AKIA", "ASIA"]) + self.s(B32, 16)
        if k == "aws_secret":
            return k, self.s(ALNUM + "+/", 40)
        if k == "gcp_key":
            return k, "AIza" + self.s(URLSAFE, 35)
        if k == "azure_storage":
            acct = self.s(string.ascii_lowercase, 10)
            key = base64.b64encode(self.r.randbytes(64)).decode()
            return k, f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={key};EndpointSuffix=core.windows.net"
        if k == "do_token":
            return k, "dop_v1_" + self.s(HEX, 64)
        return "gcp_oauth_secret", "GOCSPX-" + self.s(URLSAFE, 28)

    def source_host(self):
        k = self.r.choice(["ghp", "gho", "ghu", "ghs", "ghr", "github_pat", "glpat"])
        if k in ("ghp", "gho", "ghu", "ghs", "ghr"):
            return k, self.crc_token(k + "_")
        if k == "github_pat":
            return k, "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)
        return k, "glpat-" + self.s(URLSAFE, 20)

    def chat(self):
        k = self.r.choice(["slack_bot", "slack_user", "slack_webhook", "discord_webhook", "telegram_bot"])
        if k == "slack_bot":
            return k, f"xoxb-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(ALNUM, 24)}"
        if k == "slack_user":
            return k, f"xoxp-{self.s(string.digits, 12)}-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(HEX, 32)}"
        if k == "slack_webhook":
            return k, f"https://hooks.slack.com/services/T{self.s(B32[:26] + string.digits, 10)}/B{self.s(B32[:26] + string.digits, 10)}/{self.s(ALNUM, 24)}"
        if k == "discord_webhook":
            return k, f"https://discord.com/api/webhooks/{self.s(string.digits, 18)}/{self.s(URLSAFE, 68)}"
        return k, f"{self.r.randint(100000000, 9999999999)}:AA{self.s(URLSAFE, 33)}"

    def payment(self):
        k = self.r.choice(["stripe_secret", "stripe_restricted", "square", "shopify"])
        if k == "stripe_secret":
            return k, "sk_live_" + self.s(ALNUM, self.r.choice([24, 99]))
        if k == "stripe_restricted":
            return k, "rk_live_" + self.s(ALNUM, self.r.choice([24, 99]))
        if k == "square":
            return k, "EAAA" + self.s(URLSAFE, 60)
        return k, self.r.choice(["shpat_", "shpss_", "shpca_"]) + self.s(HEX, 32)

    def ai(self):
        k = self.r.choice(["openai_proj", "openai_legacy", "anthropic", "huggingface", "groq"])
        if k == "openai_proj":
            return k, "sk-proj-" + self.s(URLSAFE, 74) + "T3BlbkFJ" + self.s(URLSAFE, 74)
        if k == "openai_legacy":
            return k, "sk-" + self.s(ALNUM, 20) + "T3BlbkFJ" + self.s(ALNUM, 20)
        if k == "anthropic":
            return k, "sk-ant-api03-" + self.s(URLSAFE, 93) + "AA"
        if k == "huggingface":
            return k, "hf_" + self.s(string.ascii_letters, 34)
        return k, "gsk_" + self.s(ALNUM, 52)

    def password(self):
        style = self.r.choices(["alnum", "symbols", "hex", "b64", "memorable"], [4, 3, 2, 2, 1])[0]
        if style == "alnum":
            return self.s(ALNUM, self.r.randint(16, 40))
        if style == "symbols":
            return self.s(ALNUM + "!#%&*+-.=?@^_~", self.r.randint(12, 28))
        if style == "hex":
            return self.s(HEX, self.r.choice([32, 48, 64]))
        if style == "b64":
            return base64.b64encode(self.r.randbytes(self.r.choice([24, 32]))).decode()
        words = ["Falcon", "Harbor", "Quartz", "Meadow", "Copper", "Lantern", "Orbit", "Thistle"]
        return self.r.choice(words) + self.r.choice(["-", "_", "!", "#"]) + self.r.choice(words).lower() + str(self.r.randint(10, 9999)) + self.r.choice("!?@$")

    def user(self):
        return self.r.choice(["admin", "app", "svc_api", "deploy", "postgres", "root", "reporter", "ci-bot"])

    def host(self):
        return self.r.choice(["db", "db.internal", "10.0.3.17", "pg-primary.prod.svc", "mysql.example.net", "cache-01"])

    def database_uri(self):
        pw = self.s(ALNUM, self.r.randint(14, 30))
        k = self.r.choice(["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp"])
        if k == "redis":
            return k, f"redis://:{pw}@{self.host()}:6379/0"
        if k == "mongodb+srv":
            return k, f"mongodb+srv://{self.user()}:{pw}@cluster0.{self.s(LOWER_ALNUM, 5)}.mongodb.net/app?retryWrites=true"
        if k == "amqp":
            return k, f"amqp://{self.user()}:{pw}@{self.host()}:5672/vhost"
        port = 3306 if k == "mysql" else 5432
        return k, f"{k}://{self.user()}:{pw}@{self.host()}:{port}/app"

    def http_auth(self):
        k = self.r.choice(["basic_url", "bearer_header", "basic_header"])
        if k == "basic_url":
            return k, f"https://{self.user()}:{self.s(ALNUM, self.r.randint(14, 28))}@{self.r.choice(['artifacts', 'nexus', 'git', 'registry'])}.corp.example.com/repo"
        if k == "bearer_header":
            return k, "Authorization: Bearer " + self.s(URLSAFE, self.r.randint(32, 64))
        raw = f"{self.user()}:{self.s(ALNUM, self.r.randint(14, 24))}".encode()
        return k, "Authorization: Basic " + base64.b64encode(raw).decode()

    def package_registry(self):
        k = self.r.choice(["npm", "pypi", "dockerhub_pat", "nuget", "rubygems"])
        if k == "npm":
            return k, self.crc_token("npm_")
        if k == "pypi":
            return k, self.pypi_token()
        if k == "dockerhub_pat":
            return k, "dckr_pat_" + self.s(URLSAFE, 27)
        if k == "nuget":
            return k, "oy2" + self.s(string.ascii_lowercase + string.digits, 43)
        return k, "rubygems_" + self.s(HEX, 48)

    def pypi_token(self):
        # A PyPI API token is "pypi-" + base64url of a macaroon whose first bytes name pypi.org.
        return "pypi-" + base64.urlsafe_b64encode(b"\x02\x01\x08pypi.org" + self.r.randbytes(self.r.choice([120, 150]))).decode().rstrip("=")

    def private_key_pem(self):
        kind = self.r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
        # Bodies start as real ones do (DER SEQUENCE header, or the OpenSSH magic); the rest is random.
        head = {"RSA PRIVATE KEY": b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00",
                "PRIVATE KEY": b"\x30\x82\x04\xbe\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00",
                "EC PRIVATE KEY": b"\x30\x77\x02\x01\x01\x04\x20",
                "OPENSSH PRIVATE KEY": b"openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none"}[kind]
        n = {"RSA PRIVATE KEY": 1192, "PRIVATE KEY": 1218, "EC PRIVATE KEY": 121, "OPENSSH PRIVATE KEY": 400}[kind]
        body = base64.b64encode(head + self.r.randbytes(n - len(head))).decode()
        width = 70 if kind == "OPENSSH PRIVATE KEY" else 64
        lines = [f"-----BEGIN {kind}-----"] + [body[i:i + width] for i in range(0, len(body), width)] + [f"-----END {kind}-----"]
        return kind.lower().replace(" ", "_"), lines

    def public_pem(self):
        kind = self.r.choice(["PUBLIC KEY", "CERTIFICATE", "RSA PUBLIC KEY"])
        body = base64.b64encode(b"\x30\x82\x01\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00" + self.r.randbytes(self.r.choice([275, 880]))).decode()
        return kind, [f"-----BEGIN {kind}-----"] + [body[i:i + 64] for i in range(0, len(body), 64)] + [f"-----END {kind}-----"]


# Keys a URI or header is stored under; provider tokens use KIND_KEYS, generic ones SECRET_KEYS.
TOKEN_KEYS = {
    "database-uri": ["DATABASE_URL", "db_url", "MONGO_URI", "REDIS_URL", "broker_url", "SQLALCHEMY_DATABASE_URI"],
    "http-auth": ["REPO_URL", "upstream", "mirror_url", "endpoint"],
}
KIND_KEYS = {
    "aws_id": ["AWS_ACCESS_KEY_ID", "aws_access_key_id"], "aws_secret": ["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"],
    "gcp_key": ["GOOGLE_API_KEY", "maps_api_key", "firebase_api_key"], "gcp_oauth_secret": ["GOOGLE_CLIENT_SECRET", "oauth_client_secret"],
    "azure_storage": ["AZURE_STORAGE_CONNECTION_STRING", "storage_connection"], "do_token": ["DIGITALOCEAN_TOKEN", "DO_API_TOKEN"],
    "ghp": ["GITHUB_TOKEN", "GH_TOKEN", "GIT_PASSWORD"], "gho": ["GITHUB_TOKEN", "github_oauth_token"], "ghu": ["GITHUB_TOKEN", "GH_TOKEN"],
    "ghs": ["GITHUB_TOKEN", "installation_token"], "ghr": ["GITHUB_REFRESH_TOKEN", "refresh_token"], "github_pat": ["GITHUB_TOKEN", "GH_PAT"],
    "glpat": ["GITLAB_TOKEN", "gitlab_private_token"], "slack_bot": ["SLACK_BOT_TOKEN", "slack_token"], "slack_user": ["SLACK_USER_TOKEN", "slack_token"],
    "slack_webhook": ["SLACK_WEBHOOK_URL", "notify_url"], "discord_webhook": ["DISCORD_WEBHOOK", "discord_webhook_url"],
    "telegram_bot": ["TELEGRAM_BOT_TOKEN", "telegram_token", "bot_token"], "stripe_secret": ["STRIPE_SECRET_KEY", "stripe_api_key"],
    "stripe_restricted": ["STRIPE_RESTRICTED_KEY", "stripe_api_key"], "square": ["SQUARE_ACCESS_TOKEN"],
    "shopify": ["SHOPIFY_ADMIN_TOKEN", "shopify_access_token"], "openai_proj": ["OPENAI_API_KEY", "openai_key"],
    "openai_legacy": ["OPENAI_API_KEY", "openai_key"], "anthropic": ["ANTHROPIC_API_KEY", "claude_api_key"],
    "huggingface": ["HF_TOKEN", "HUGGINGFACE_TOKEN"], "groq": ["GROQ_API_KEY"], "npm": ["NPM_TOKEN"],
    "pypi": ["PYPI_API_TOKEN", "TWINE_PASSWORD"], "dockerhub_pat": ["DOCKERHUB_TOKEN", "DOCKER_PASSWORD"],
    "nuget": ["NUGET_API_KEY"], "rubygems": ["GEM_HOST_API_KEY"],
}
SECRET_KEYS = ["password", "DB_PASSWORD", "db_pass", "passwd", "pwd", "secret", "client_secret", "api_key",
               "apiKey", "access_token", "auth_token", "SECRET_KEY", "signing_key", "encryption_key",
               "SMTP_PASSWORD", "REDIS_PASSWORD", "admin_password", "jwt_secret", "webhook_secret",
               "MYSQL_ROOT_PASSWORD", "POSTGRES_PASSWORD", "app_secret", "private_token", "service_key"]
NONSECRET_HASH_KEYS = ["image_digest", "integrity", "sha256", "checksum", "commit", "etag", "request_id",
                       "uuid", "trace_id", "content_hash", "build_sha", "revision", "correlation_id", "digest"]
PLACEHOLDERS = ["${DB_PASSWORD}", "{{ .Values.db.password }}", "$(cat /run/secrets/db)", "<your-token>",
                "changeme", "xxxxxxxxxxxxxxxx", "********", "***", "${{ secrets.API_TOKEN }}", "%(password)s",
                "{{ vault \"secret/data/app\" }}", "REPLACE_ME", "your-api-key-here", "<password>", "${env:SECRET}",
                "dummy", "example", "TODO", "null", "<redacted>"]
FILLER = {"name": ["payments", "worker", "api"], "port": ["8080", "9000", "5432"], "replicas": ["1", "3", "5"],
          "log_level": ["info", "debug", "warn"], "timeout_seconds": ["30", "120"], "region": ["eu-west-1", "us-east-2"],
          "feature_flag": ["true", "false"], "max_connections": ["50", "200"], "service": ["billing", "search"],
          "environment": ["staging", "production"], "retries": ["3", "5"], "cache_ttl": ["60", "3600"],
          "owner": ["platform", "payments-team"], "version": ["v1.4.2", "2.0.0"], "listen_addr": ["0.0.0.0:9000", "127.0.0.1:8080"]}


class Item:
    """One planted line (or PEM block): a positive or a decoy."""

    def __init__(self, positive, family, kind, key, value):
        self.positive, self.family, self.kind, self.key, self.value = positive, family, kind, key, value


class Corpus:
    """The files being written (path -> lines) and the answer key that labels their lines."""

    def __init__(self, seed, scale):
        self.r = random.Random(seed)
        self.g = Gen(self.r)
        self.scale = scale
        self.files = {}  # path -> list of lines
        self.seen = {}  # key -> uses, in the file being written
        self.key = {"seed": seed, "scale": scale, "positives": [], "decoys": []}

    # --- items
    def positive(self):
        fam = self.r.choices(
            ["cloud", "source-host", "chat", "payment", "ai", "database-uri", "generic-password", "http-auth", "package-registry"],
            [3, 3, 2, 2, 2, 2, 5, 2, 2])[0]
        if fam == "generic-password":
            return Item(True, fam, "password", self.r.choice(SECRET_KEYS), self.g.password())
        gen = {"cloud": self.g.cloud, "source-host": self.g.source_host, "chat": self.g.chat, "payment": self.g.payment,
               "ai": self.g.ai, "database-uri": self.g.database_uri, "http-auth": self.g.http_auth,
               "package-registry": self.g.package_registry}[fam]
        kind, value = gen()
        # Mostly the key a vendor's docs use for this token; sometimes a bland one.
        if kind in KIND_KEYS and self.r.random() < 0.8:
            key = self.r.choice(KIND_KEYS[kind])
        else:
            key = self.r.choice(TOKEN_KEYS[fam] if fam in TOKEN_KEYS else ["token", "api_key", "credential", "key"])
        return Item(True, fam, kind, key, value)

    def decoy(self):
        g, r = self.g, self.r
        kind = r.choice(["hash_under_key", "hash_under_key", "uuid", "git_sha", "placeholder", "placeholder",
                         "doc_example", "file_ref", "bad_checksum", "wrong_length", "base64_data", "url_no_creds",
                         "templated_uri", "public_key_ref"])
        if kind == "hash_under_key":
            key = r.choice(NONSECRET_HASH_KEYS)
            v = r.choice([
                "sha256:" + g.s(HEX, 64), g.s(HEX, 40), g.s(HEX, 64),
                "sha512-" + base64.b64encode(r.randbytes(64)).decode(),
                base64.b64encode(r.randbytes(32)).decode(), g.s(ALNUM, 32)])
            return Item(False, "generic-password", kind, key, v)
        if kind == "uuid":
            return Item(False, "generic-password", kind, r.choice(["id", "tenant_id", "client_id", "uuid", "instance"]),
                        str(uuid.UUID(bytes=r.randbytes(16), version=4)))
        if kind == "git_sha":
            return Item(False, "generic-password", kind, r.choice(["commit", "GIT_SHA", "ref", "base_sha"]), g.s(HEX, 40))
        if kind == "placeholder":
            return Item(False, "generic-password", kind, r.choice(SECRET_KEYS), r.choice(PLACEHOLDERS))
        if kind == "doc_example":
            key, v = r.choice([("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
                               ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")])
            return Item(False, "cloud", kind, key, v)
        if kind == "file_ref":
            key = r.choice(["password_file", "DB_PASSWORD_FILE", "secret_path", "token_file", "credentials_file", "key_file"])
            return Item(False, "generic-password", kind, key, r.choice(["/run/secrets/db", "/etc/app/token", "./secrets/api.key", "/var/run/secrets/kubernetes.io/serviceaccount/token"]))
        if kind == "bad_checksum":
            prefix = r.choice(["ghp_", "gho_", "ghs_", "npm_"])
            fam = "package-registry" if prefix == "npm_" else "source-host"
            # Under a neutral key: the decoy tests prefix rules that skip the checksum,
            # not key-name detection (a random value under GITHUB_TOKEN may well be a secret).
            return Item(False, fam, kind, r.choice(["value", "ref", "label", "sample_id"]), g.crc_token(prefix, bad=True))
        if kind == "wrong_length":
            prefix, fam = r.choice([("ghp_", "source-host"), ("xoxb-", "chat"), ("sk_live_", "payment"), ("AKIA", "cloud"), ("glpat-", "source-host")])
            return Item(False, fam, kind, r.choice(["value", "ref", "label", "sample_id"]), prefix + g.s(ALNUM, r.choice([4, 6, 9])))
        if kind == "base64_data":
            text = r.choice(["Hello from the deployment pipeline, build finished without errors.",
                             "{\"theme\":\"dark\",\"locale\":\"en-GB\",\"layout\":\"compact\"}",
                             "This configuration file is managed by the platform team."])
            return Item(False, "generic-password", kind, r.choice(["banner", "config_blob", "motd", "payload"]),
                        base64.b64encode(text.encode()).decode())
        if kind == "url_no_creds":
            return Item(False, "http-auth", kind, r.choice(["homepage", "api_base", "upstream", "docs_url"]),
                        r.choice(["https://api.example.com/v2/items?page=2", "https://registry.npmjs.org/", "postgres://db.internal:5432/app",
                                  "https://github.com/org/repo.git", "http://localhost:8080/health"]))
        if kind == "templated_uri":
            return Item(False, "database-uri", kind, "DATABASE_URL",
                        r.choice(["postgres://app:${PASS}@db:5432/app", "mysql://root:{{ .Values.mysql.password }}@mysql/app",
                                  "postgresql://user:$(DB_PASSWORD)@localhost/db", "redis://:<password>@cache:6379/0",
                                  "mongodb://admin:changeme@localhost:27017"]))
        return Item(False, "private-key", kind, r.choice(["ssh_public_key", "authorized_key"]),
                    "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + r.randbytes(32)).decode() + " deploy@ci")

    def items(self, n):
        out = []
        for _ in range(n):
            out.append(self.positive() if self.r.random() < 0.5 else self.decoy())
        return out

    # --- rendering: each syntax puts the item on exactly one line (PEM blocks excepted)
    def uniq(self, k):
        """Keys repeat within a file only with a suffix, so every TOML/JSON file stays valid."""
        n = self.seen.get(k.lower(), 0)
        self.seen[k.lower()] = n + 1
        return k if n == 0 else f"{k}_{n + 1}"

    def render(self, syntax, it):
        k, v, r = self.uniq(it.key), it.value, self.r
        bare = v.startswith("Authorization: ")
        if syntax == "env":
            return f"{k.upper()}={v}" if not bare else f"HTTP_HEADER=\"{v}\""
        if syntax == "yaml":
            if bare:
                return f"  {v}"
            if not (v[:1].isalnum() or v[:1] in "/_.") or ": " in v or " #" in v:
                return f"  {k}: {json.dumps(v)}"  # YAML would read these bare
            q = r.choice(["", "\"", "'"])
            return f"  {k}: {q}{v}{q}"
        if syntax == "json":
            return f"  \"{k}\": {json.dumps(v)},"
        if syntax == "toml":
            return f"{k.lower()} = {json.dumps(v)}"
        if syntax == "ini":
            return f"{k.lower()}{r.choice(['=', ' = ', ': '])}{v}"
        if syntax == "properties":
            return f"app.{k.lower().replace('_', '.')}={v}"
        if syntax == "dockerfile":
            if bare:
                return f"RUN curl -fsSL -H \"{v}\" https://artifacts.example.com/tool.tgz -o /tmp/tool.tgz"
            return r.choice([f"ENV {k.upper()}={v}", f"ARG {k.upper()}={v}",
                             f"RUN docker build --build-arg {k.upper()}={v} ."])
        if syntax == "shell":
            if bare:
                return f"curl -sS -H \"{v}\" https://api.example.com/v1/status"
            if it.family == "generic-password" and it.positive:
                return r.choice([f"export {k.upper()}=\"{v}\"", f"mysql -h db -u root -p'{v}' app",
                                 f"psql --password '{v}' -h db", f"curl -u admin:{v} https://nexus.example.com/",
                                 f"./deploy.sh --password={v} --env prod"])
            return f"export {k.upper()}='{v}'"
        if syntax == "python":
            return f"    {k.lower()} = \"{v}\"" if not bare else f"    headers = {{\"Authorization\": \"{v.split(': ', 1)[1]}\"}}"
        if syntax == "js":
            return f"  {camel(k)}: '{v}'," if not bare else f"  headers: {{ Authorization: '{v.split(': ', 1)[1]}' }},"
        if syntax == "go":
            return f"\t{camel(k)} := \"{v}\"" if not bare else f"\treq.Header.Set(\"Authorization\", \"{v.split(': ', 1)[1]}\")"
        if syntax == "java":
            return f"    private static final String {k.upper()} = \"{v}\";" if not bare else f"    conn.setRequestProperty(\"Authorization\", \"{v.split(': ', 1)[1]}\");"
        if syntax == "ruby":
            return f"  config.{k.lower()} = '{v}'" if not bare else f"  req['Authorization'] = '{v.split(': ', 1)[1]}'"
        if syntax == "log":
            ts = f"2026-11-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"
            if bare:
                return f"{ts} DEBUG http request headers: {v}"
            return f"{ts} INFO  [{r.choice(['deploy', 'setup', 'env'])}] {k}={v}"
        raise ValueError(syntax)

    def filler(self, syntax):
        r = self.r
        k = r.choice(sorted(FILLER))
        v = r.choice(FILLER[k])
        k = self.uniq(k)
        return {
            "env": f"{k.upper()}={v}", "yaml": f"  {k}: {v}", "json": f"  \"{k}\": \"{v}\",", "toml": f"{k} = \"{v}\"",
            "ini": f"{k}={v}", "properties": f"app.{k}={v}", "dockerfile": r.choice(["RUN apt-get update && apt-get install -y curl", "WORKDIR /app", "COPY . .", f"EXPOSE {r.randint(3000, 9000)}"]),
            "shell": r.choice(["set -euo pipefail", f"echo \"starting {k}\"", "cd \"$(dirname \"$0\")\"", f"sleep {r.randint(1, 9)}"]),
            "python": f"    {k} = \"{v}\"", "js": f"  {k}: '{v}',", "go": f"\t{k} := \"{v}\"",
            "java": f"    private static final int {k.upper()} = {r.randint(1, 999)};", "ruby": f"  config.{k} = '{v}'",
            "log": f"2026-11-{r.randint(1, 28):02d}T10:00:00Z INFO  [{k}] ready in {r.randint(1, 900)}ms",
        }[syntax]

    # --- file writers
    def emit(self, path, header, syntax, items, footer=()):
        self.seen = {}
        lines = list(header)
        for it in items:
            for _ in range(self.r.randint(0, 3)):
                lines.append(self.filler(syntax))
            self.record(path, len(lines) + 1, len(lines) + 1, it)
            lines.append(self.render(syntax, it))
        lines.append(self.filler(syntax))
        if syntax == "json":
            lines[-1] = lines[-1].rstrip(",")
        lines.extend(footer)
        self.files[path] = lines

    def record(self, path, line, end_line, it):
        if it.positive:
            self.key["positives"].append({"path": path, "line": line, "end_line": end_line, "family": it.family,
                                          "kind": it.kind, "value": it.value})
        else:
            self.key["decoys"].append({"path": path, "line": line, "end_line": end_line, "family": it.family, "kind": it.kind})

    def service(self, i):
        r = self.r
        name = r.choice(["billing", "auth", "search", "ledger", "notify", "catalog", "gateway", "reports"]) + f"-{i:03d}"
        base = f"services/{name}"
        n = lambda: r.randint(2, 6)  # noqa: E731
        self.emit(f"{base}/.env", ["# local settings"], "env", self.items(n()))
        self.emit(f"{base}/k8s/deployment.yaml", ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {name}", "spec:", "  template:", "    config:"], "yaml", self.items(n()))
        self.emit(f"{base}/chart/values.yaml", ["# Helm values", "app:"], "yaml", self.items(n()))
        self.emit(f"{base}/docker-compose.yml", ["services:", f"  {name}:", f"    image: example/{name}:1.0", "    environment:"], "yaml", self.items(n()))
        self.emit(f"{base}/.github/workflows/ci.yml", ["name: ci", "on: [push]", "env:"], "yaml", self.items(n()))
        self.emit(f"{base}/config/settings.json", ["{"], "json", self.items(n()), ["}"])
        self.emit(f"{base}/config/app.toml", ["[app]"], "toml", self.items(n()))
        self.emit(f"{base}/config/app.ini", ["[default]"], "ini", self.items(n()))
        self.emit(f"{base}/src/main/resources/application.properties", ["# spring"], "properties", self.items(n()))
        self.emit(f"{base}/Dockerfile", ["FROM debian:12-slim"], "dockerfile", self.items(n()), ["CMD [\"/app/run\"]"])
        self.emit(f"{base}/scripts/deploy.sh", ["#!/usr/bin/env bash"], "shell", self.items(n()))
        lang = r.choice([("python", "app/settings.py", ["class Settings:"], []),
                         ("js", "src/config.js", ["module.exports = {"], ["};"]),
                         ("go", "internal/config/config.go", ["package config", "", "func defaults() {"], ["}"]),
                         ("java", "src/main/java/Config.java", ["public final class Config {"], ["}"]),
                         ("ruby", "config/initializers/app.rb", ["Rails.application.configure do"], ["end"])])
        self.emit(f"{base}/{lang[1]}", lang[2], lang[0], self.items(n()), lang[3])
        self.emit(f"{base}/logs/ci-{i}.log", [], "log", self.items(n()))
        self.registry_files(base)
        self.k8s_secret(base)
        self.pem_files(base)
        self.lock_files(base)
        # Newer file types, each in some services only, so the corpus stays small for CI.
        if r.random() < 0.6:
            self.k8s_env(base)
        self.encoded_files(base)
        if r.random() < 0.6:
            self.multi_part(base)
        if r.random() < 0.5:
            self.docs_and_digests(base)

    def registry_files(self, base):
        g, r = self.g, self.r
        # .npmrc: a real token, or a templated one
        lines = ["registry=https://registry.npmjs.org/"]
        if r.random() < 0.6:
            v = g.crc_token("npm_")
            self.record(f"{base}/.npmrc", 2, 2, Item(True, "package-registry", "npmrc", "_authToken", v))
            lines.append(f"//registry.npmjs.org/:_authToken={v}")
        else:
            self.record(f"{base}/.npmrc", 2, 2, Item(False, "package-registry", "placeholder", "_authToken", ""))
            lines.append("//registry.npmjs.org/:_authToken=${NPM_TOKEN}")
        self.files[f"{base}/.npmrc"] = lines
        # .pypirc
        tok = g.pypi_token()
        lines = ["[distutils]", "index-servers = pypi private", "", "[pypi]", "username = __token__", f"password = {tok}",
                 "", "[private]", "repository = https://pypi.corp.example.com/", "username = deploy"]
        self.record(f"{base}/.pypirc", 6, 6, Item(True, "package-registry", "pypirc", "password", tok))
        pw = g.password()
        lines.append(f"password = {pw}")
        self.record(f"{base}/.pypirc", 11, 11, Item(True, "generic-password", "pypirc_private", "password", pw))
        self.files[f"{base}/.pypirc"] = lines
        # docker config.json: auth is base64(user:password)
        auth = base64.b64encode(f"{g.user()}:{g.s(ALNUM, 20)}".encode()).decode()
        self.files[f"{base}/.docker/config.json"] = ["{", "  \"auths\": {", "    \"registry.corp.example.com\": {",
                                                      f"      \"auth\": \"{auth}\"", "    }", "  }", "}"]
        self.record(f"{base}/.docker/config.json", 4, 4, Item(True, "package-registry", "docker_auth", "auth", auth))

    def k8s_secret(self, base):
        """A Kubernetes Secret keeps values base64-encoded under `data:`; a scanner must decode them."""
        g, r = self.g, self.r
        path = f"{base}/k8s/secret.yaml"
        lines = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: app-credentials", "type: Opaque", "data:"]
        b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
        self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "k8s_data_username", "", ""))
        lines.append(f"  DB_USER: {b64(g.user())}")
        pw = g.password()
        self.record(path, len(lines) + 1, len(lines) + 1, Item(True, "generic-password", "k8s_secret_data", "DB_PASSWORD", pw))
        lines.append(f"  DB_PASSWORD: {b64(pw)}")
        self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "k8s_data_config", "", ""))
        lines.append(f"  LOG_FORMAT: {b64(r.choice(['json', 'logfmt', 'text with colours']))}")
        self.files[path] = lines

    def pem_files(self, base):
        kind, block = self.g.private_key_pem()
        path = f"{base}/secrets/{self.r.choice(['id_rsa', 'server.key', 'signing.pem', 'deploy_key'])}"
        self.files[path] = block
        self.record(path, 1, len(block), Item(True, "private-key", kind, "", "\n".join(block)))
        # a private key embedded in YAML as a block scalar
        kind, block = self.g.private_key_pem()
        path = f"{base}/k8s/tls-secret.yaml"
        head = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: tls", "stringData:", "  tls.key: |"]
        self.files[path] = head + ["    " + b for b in block]
        self.record(path, len(head) + 1, len(head) + len(block), Item(True, "private-key", kind + "_in_yaml", "", "\n".join(block)))
        # public material: must not be reported
        kind, block = self.g.public_pem()
        path = f"{base}/certs/{self.r.choice(['ca.crt', 'server.pub', 'chain.pem'])}"
        self.files[path] = block
        self.record(path, 1, len(block), Item(False, "private-key", kind.lower().replace(" ", "_"), "", ""))

    def lock_files(self, base):
        g, r = self.g, self.r
        if r.random() < 0.5:
            path = f"{base}/package-lock.json"
            lines = ["{", "  \"name\": \"app\",", "  \"lockfileVersion\": 3,", "  \"packages\": {"]
            for j in range(r.randint(2, 5)):
                lines.append(f"    \"node_modules/pkg-{j}\": {{")
                lines.append(f"      \"version\": \"1.{j}.0\",")
                lines.append(f"      \"resolved\": \"https://registry.npmjs.org/pkg-{j}/-/pkg-{j}-1.{j}.0.tgz\",")
                self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "lock_integrity", "", ""))
                lines.append(f"      \"integrity\": \"sha512-{base64.b64encode(r.randbytes(64)).decode()}\"")
                lines.append("    },")
            lines[-1] = "    }"
            lines += ["  }", "}"]
            self.files[path] = lines
        else:
            path = f"{base}/Cargo.lock"
            lines = ["# This file is automatically @generated by Cargo.", "version = 4", ""]
            for j in range(r.randint(2, 5)):
                lines += ["[[package]]", f"name = \"crate-{j}\"", f"version = \"0.{j}.1\"", "source = \"registry+https://github.com/rust-lang/crates.io-index\""]
                self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "lock_checksum", "", ""))
                lines += [f"checksum = \"{g.s(HEX, 64)}\"", ""]
            self.files[path] = lines
        if r.random() < 0.5:
            path = f"{base}/poetry.lock"
            lines = ["[[package]]", "name = \"requests\"", "version = \"2.32.3\"", "files = ["]
            for j in range(2):
                self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "lock_hash", "", ""))
                lines.append(f"    {{file = \"requests-2.32.3-{j}.whl\", hash = \"sha256:{g.s(HEX, 64)}\"}},")
            lines.append("]")
            self.files[path] = lines
        else:
            path = f"{base}/go.sum"
            lines = []
            for j in range(r.randint(2, 4)):
                self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "go_sum", "", ""))
                lines.append(f"github.com/example/mod{j} v1.{j}.0 h1:{base64.b64encode(r.randbytes(32)).decode()}")
                self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "go_sum", "", ""))
                lines.append(f"github.com/example/mod{j} v1.{j}.0/go.mod h1:{base64.b64encode(r.randbytes(32)).decode()}")
            self.files[path] = lines

    def secret_value(self):
        """A random credential for an encoded or multi-line item: a provider token or a password."""
        fam = self.r.choice(["source-host", "payment", "ai", "generic-password"])
        if fam == "generic-password":
            return "password", self.g.password()
        gen = {"source-host": self.g.source_host, "payment": self.g.payment, "ai": self.g.ai}[fam]
        return gen()

    def k8s_env(self, base):
        """Kubernetes container env entries (`- name: X` / `value: Y`, two lines each) and a
        compose `environment:` list (`- KEY=value`)."""
        g, r = self.g, self.r
        path = f"{base}/k8s/env-deployment.yaml"
        lines = ["apiVersion: apps/v1", "kind: Deployment", "spec:", "  template:", "    spec:", "      containers:",
                 "        - name: app", "          image: example/app:1.0", "          env:"]
        for _ in range(r.randint(2, 4)):
            roll = r.random()
            if roll < 0.4:
                it = Item(True, "generic-password", "k8s_env", r.choice(SECRET_KEYS).upper(), g.password())
                val = f"              value: {json.dumps(it.value)}"
            elif roll < 0.6:
                it = Item(False, "generic-password", "k8s_env_ref", r.choice(SECRET_KEYS).upper(), "")
                val = r.choice(["              value: \"$(DB_PASSWORD)\"", "              valueFrom: {secretKeyRef: {name: app, key: password}}",
                                "              value: \"{{ .Values.secret }}\""])
            else:
                key, v = r.choice([("IMAGE_DIGEST", "sha256:" + g.s(HEX, 64)), ("BUILD_SHA", g.s(HEX, 40)),
                                   ("REQUEST_ID", str(uuid.UUID(bytes=r.randbytes(16), version=4))),
                                   ("CONFIG_CHECKSUM", g.s(HEX, 64)), ("TRACE_SAMPLE_SEED", g.s(ALNUM, 24))])
                it = Item(False, "generic-password", "k8s_env_nonsecret", key, v)
                val = f"              value: \"{v}\""
            self.record(path, len(lines) + 1, len(lines) + 2, it)
            lines += [f"            - name: {it.key}", val]
        self.files[path] = lines
        path = f"{base}/compose.override.yml"
        lines = ["services:", "  worker:", "    environment:"]
        for _ in range(r.randint(1, 3)):
            if r.random() < 0.5:
                it = Item(True, "generic-password", "compose_env", r.choice(SECRET_KEYS).upper(), g.password())
            else:
                it = Item(False, "generic-password", "compose_env_nonsecret", r.choice(NONSECRET_HASH_KEYS).upper(),
                          r.choice(["sha256:" + g.s(HEX, 64), g.s(HEX, 40), str(uuid.UUID(bytes=r.randbytes(16), version=4))]))
            self.record(path, len(lines) + 1, len(lines) + 1, it)
            lines.append(f"      - {it.key}={it.value}")
        self.files[path] = lines

    def encoded_files(self, base):
        """Secrets that only show once decoded: a Kubernetes Secret whose data holds whole
        files, base64 blobs in JSON, URL-encoded request logs and hex-escaped string literals;
        with the same encodings of non-secret text as decoys."""
        g, r = self.g, self.r
        b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
        benign = ["LOG_LEVEL=info\nFEATURE_FLAGS=search,export\nREGION=eu-west-1\n",
                  "{\"theme\": \"dark\", \"retries\": 3, \"endpoint\": \"https://api.example.com/v2\"}",
                  "server {\n  listen 8080;\n  root /srv/www;\n}\n", "Welcome to the build agent. Unauthorised use is prohibited."]
        # k8s Secret with file-shaped data
        path = f"{base}/k8s/app-config-secret.yaml"
        lines = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: app-env", "type: Opaque", "data:"]
        for _ in range(r.randint(1, 3)):
            if r.random() < 0.55:
                _, v = self.secret_value()
                name = r.choice(["API_TOKEN", "SERVICE_CREDENTIAL", "GITHUB_TOKEN", "STRIPE_KEY", "DB_PASSWORD"])
                content = r.choice([f"{name}={v}\n", f"{name.lower()}: {v}\n", f"[default]\n{name.lower()} = {v}\n"])
                it = Item(True, "encoded", "k8s_data_file", "", v)
                fname = r.choice([".env", "config.yaml", "credentials.ini"])
            else:
                content = r.choice(benign)
                it = Item(False, "encoded", "k8s_data_benign", "", "")
                fname = r.choice(["app.env", "settings.json", "nginx.conf", "motd"])
            self.record(path, len(lines) + 1, len(lines) + 1, it)
            lines.append(f"  {fname}: {b64(content)}")
        self.files[path] = lines
        # base64 blobs in JSON/YAML under neutral keys, URL-encoded logs, hex-escaped literals
        path = f"{base}/config/bootstrap.json"
        lines = ["{"]
        for j in range(r.randint(1, 3)):
            if r.random() < 0.5:
                _, v = self.secret_value()
                env = r.choice(["TOKEN", "API_KEY", "PASSWORD", "SECRET"])
                it = Item(True, "encoded", "base64_blob", "", v)
                lines.append(f"  \"user_data_{j}\": \"{b64(f'#!/bin/sh' + chr(10) + f'export {env}={v}' + chr(10))}\",")
            else:
                it = Item(False, "encoded", "base64_blob_benign", "", "")
                lines.append(f"  \"user_data_{j}\": \"{b64(r.choice(benign))}\",")
            self.record(path, len(lines), len(lines), it)
        lines.append("  \"version\": 1")
        lines.append("}")
        self.files[path] = lines
        path = f"{base}/logs/access.log"
        lines = []
        for _ in range(r.randint(1, 3)):
            ts = f"2026-11-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z"
            if r.random() < 0.5:
                _, v = self.secret_value()
                field = r.choice(["password", "client_secret", "token", "api_key"])
                q = urllib.parse.quote(f"username=svc&{field}={v}", safe="")
                it = Item(True, "encoded", "url_encoded", "", v)
                lines.append(f"{ts} POST /oauth/token body={q} 200")
            else:
                q = urllib.parse.quote(r.choice(["q=hello world&page=2", "redirect=/home?tab=billing&lang=en-GB",
                                                 "filter=status:open&sort=-updated"]), safe="")
                it = Item(False, "encoded", "url_encoded_benign", "", "")
                lines.append(f"{ts} GET /search?state={q} 200")
            self.record(path, len(lines), len(lines), it)
        self.files[path] = lines
        path = f"{base}/src/embedded.py"
        lines = ["# generated by the asset bundler"]
        for j in range(r.randint(1, 2)):
            hexed = lambda t: "".join(f"\\x{b:02x}" for b in t.encode())  # noqa: E731
            if r.random() < 0.5:
                _, v = self.secret_value()
                it = Item(True, "encoded", "hex_escaped", "", v)
                lines.append(f"BLOB_{j} = \"{hexed(f'token={v}')}\"")
            else:
                it = Item(False, "encoded", "hex_escaped_benign", "", "")
                lines.append(f"BLOB_{j} = \"{hexed(r.choice(['Hello from the asset bundler', 'content-type: text/html; charset=utf-8']))}\"")
            self.record(path, len(lines), len(lines), it)
        self.files[path] = lines

    def multi_part(self, base):
        """Credentials in two parts on neighbouring lines: an AWS credentials file, Twilio
        SID and auth token, Azure client id and secret, a basic-auth user and password."""
        g, r = self.g, self.r
        kind = r.choice(["aws_credentials", "twilio", "azure_sp", "basic_pair"])
        if r.random() < 0.3:
            # The same shapes with the secret part templated or a documentation value.
            path = f"{base}/config/{kind}.example"
            first = {"aws_credentials": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "twilio": f"TWILIO_ACCOUNT_SID=AC{g.s(HEX, 32)}",
                     "azure_sp": f"AZURE_CLIENT_ID={uuid.UUID(bytes=r.randbytes(16), version=4)}", "basic_pair": f"user = {g.user()}"}[kind]
            second = {"aws_credentials": "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}", "twilio": "TWILIO_AUTH_TOKEN=your_auth_token",
                      "azure_sp": "AZURE_CLIENT_SECRET={{ azure_client_secret }}", "basic_pair": "pass = <password>"}[kind]
            self.files[path] = [first, second]
            self.record(path, 1, 2, Item(False, "multi-part", kind + "_template", "", ""))
            return
        if kind == "aws_credentials":
            path = f"{base}/.aws/credentials"
            key_id, secret = "AKIA" + g.s(B32, 16), g.s(ALNUM + "+/", 40)
            lines = ["[default]", f"aws_access_key_id = {key_id}", f"aws_secret_access_key = {secret}", "region = eu-west-1"]
            self.record(path, 2, 3, Item(True, "multi-part", kind, "", secret))
        elif kind == "twilio":
            path = f"{base}/config/twilio.env"
            sid, tok = "AC" + g.s(HEX, 32), g.s(HEX, 32)
            lines = [f"TWILIO_ACCOUNT_SID={sid}", f"TWILIO_AUTH_TOKEN={tok}"]
            self.record(path, 1, 2, Item(True, "multi-part", kind, "", tok))
        elif kind == "azure_sp":
            path = f"{base}/config/azure.json"
            cid = str(uuid.UUID(bytes=r.randbytes(16), version=4))
            sec = g.s(ALNUM + "~._-", 34) + "Q~" + g.s(ALNUM, 4)
            lines = ["{", f"  \"clientId\": \"{cid}\",", f"  \"clientSecret\": \"{sec}\",",
                     f"  \"tenantId\": \"{uuid.UUID(bytes=r.randbytes(16), version=4)}\"", "}"]
            self.record(path, 2, 3, Item(True, "multi-part", kind, "", sec))
        else:
            path = f"{base}/config/smtp.ini"
            pw = g.password()
            lines = ["[smtp]", "host = smtp.example.net", f"user = {g.user()}", f"pass = {pw}"]
            self.record(path, 3, 4, Item(True, "multi-part", kind, "", pw))
        self.files[path] = lines

    def docs_and_digests(self, base):
        """A README with documentation example values and image/lock digests in other files."""
        g, r = self.g, self.r
        path = f"{base}/README.md"
        lines = ["# Setup", "", "Export your credentials before running:", "", "```sh"]
        for _ in range(r.randint(2, 3)):
            key = r.choice(SECRET_KEYS).upper()
            v = r.choice(PLACEHOLDERS + ["<your password>", "EXAMPLE_TOKEN_VALUE", "abc123", "s3cr3t", "your-secret-here"])
            self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "docs_example", key, ""))
            lines.append(f"export {key}={v}")
        lines += ["```", ""]
        self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "docs_file_ref", "", ""))
        lines.append(f"Then run `deploy --password-file {r.choice(['/run/secrets/db', '~/.config/app/pass.txt'])} --token-file ./token.txt`.")
        self.files[path] = lines
        path = f"{base}/deploy/images.lock"
        lines = []
        for j in range(r.randint(1, 3)):
            self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "image_digest", "", ""))
            lines.append(f"FROM registry.example.com/base-{j}@sha256:{g.s(HEX, 64)}")
        self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "yarn_integrity", "", ""))
        lines.append(f"  integrity sha512-{base64.b64encode(r.randbytes(64)).decode()}")
        self.record(path, len(lines) + 1, len(lines) + 1, Item(False, "generic-password", "pnpm_integrity", "", ""))
        lines.append(f"    resolution: {{integrity: sha512-{base64.b64encode(r.randbytes(64)).decode()}}}")
        self.files[path] = lines

    def build(self):
        for i in range(int(48 * self.scale)):
            self.service(i)


def camel(k):
    parts = k.lower().split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    if os.path.abspath(a.key).startswith(out + os.sep):
        sys.exit("error: --key must be outside --out, or scanners would scan the answers")
    c = Corpus(a.seed, a.scale)
    c.build()
    for rel, lines in sorted(c.files.items()):
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    c.key["files"] = len(c.files)
    c.key["positives"].sort(key=lambda e: (e["path"], e["line"]))
    c.key["decoys"].sort(key=lambda e: (e["path"], e["line"]))
    digest = hashlib.sha256(json.dumps(c.key, sort_keys=True).encode()).hexdigest()[:16]
    c.key["digest"] = digest
    with open(a.key, "w", encoding="utf-8") as f:
        json.dump(c.key, f, indent=1, sort_keys=True)
    print(f"wrote {len(c.files)} files, {len(c.key['positives'])} positives, {len(c.key['decoys'])} decoys to {out} (key digest {digest})")


if __name__ == "__main__":
    main()
