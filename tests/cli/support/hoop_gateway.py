#!/usr/bin/env python3
"""A test stand-in for the parts of hoop.dev's REST API that unleak's register.sh calls.

It validates each request the way hoop's gateway does (hoophq/hoop @ e939597; file:line
next to each check), keeps state in memory, and records every request. Stricter than hoop
in one way on purpose: a body field hoop's request type does not have is refused (hoop's
JSON binding ignores it), so a misspelt field name fails the test instead of being lost.

Standard library only. Usage:
  hoop_gateway.py --token T --log FILE [--agent NAME] [--not-admin] [--no-access-control]
                  [--oss] [--fail 'METHOD PATH-REGEX STATUS'] ...
--oss answers as hoop's OSS edition where it differs: one access-request rule per organization.
It prints the port it listens on (127.0.0.1) on its first line, then serves until killed.
"""

import argparse
import base64
import binascii
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# gateway/api/validation/validation.go:9
NAME_RE = re.compile(r"^[a-zA-Z0-9_]+(?:[-\.]?[a-zA-Z0-9_]+){2,253}$")
# gateway/api/connections/helpers.go:20-23
TAG_KEY_RE = re.compile(r"^[a-zA-Z0-9_]+(?:[-\./]?[a-zA-Z0-9_]+){0,}$")
TAG_VAL_RE = re.compile(r"^[a-zA-Z0-9-_\+=@\/:\s]+$")
# gateway/migrations: the connection type enum (000001:94, 000003, 000007, 000061)
CONNECTION_TYPES = {"command-line", "postgres", "mysql", "mssql", "tcp", "application", "custom", "database", "httpproxy"}
# gateway/services/machineidentity.go:16
MI_SUBTYPES = {"postgres", "ssh", "rdp", "aws-ssm", "httpproxy", "kubernetes", "claude-code"}

# The JSON fields of each request type (gateway/api/openapi/types.go).
CONNECTION_FIELDS = {  # Connection, types.go:367-525
    "id", "name", "command", "resource_name", "type", "subtype", "secret", "default_database",
    "agent_id", "status", "reviewers", "redact_enabled", "redact_types", "managed_by", "tags",
    "connection_tags", "access_mode_runbooks", "access_mode_exec", "access_mode_connect",
    "access_schema", "guardrail_rules", "jira_issue_template_id", "force_approve_groups",
    "access_max_duration", "min_review_approvals", "mandatory_metadata_fields",
    "jit_access_duration_sec", "attributes", "mcp_oauth_flow_id",
}
CONNECTION_PATCH_FIELDS = {  # ConnectionPatch: the writable fields, all optional
    "command", "type", "subtype", "secret", "agent_id", "reviewers", "redact_types", "tags",
    "connection_tags", "access_mode_runbooks", "access_mode_exec", "access_mode_connect",
    "access_schema", "guardrail_rules", "jira_issue_template_id", "mandatory_metadata_fields",
    "attributes", "mcp_oauth_flow_id",
}
ACCESS_RULE_FIELDS = {  # AccessRequestRuleRequest, types.go:3522-3551
    "name", "description", "access_type", "connection_names", "attributes",
    "approval_required_groups", "all_groups_must_approve", "reviewers_groups",
    "force_approval_groups", "skip_review_groups", "access_max_duration", "min_approvals",
}
MASKING_FIELDS = {  # DataMaskingRuleRequest, types.go:2304-2321
    "name", "description", "connection_ids", "attributes", "supported_entity_types",
    "score_threshold", "custom_entity_types", "updated_at",
}
GUARDRAIL_FIELDS = {  # GuardRailRuleRequest, types.go:1831-1880
    "name", "description", "input", "output", "connection_ids", "attributes",
}
MI_FIELDS = {"id", "name", "description", "connection_names", "attributes", "created_at", "updated_at"}  # types.go:3812


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def fields(body, allowed, what):
    if not isinstance(body, dict):
        raise Refused(400, f"{what}: the body is not a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(400, f"{what}: unknown field(s) {unknown} (hoop's type has no such field)")


def required(body, key, kind):
    """gin's `binding:"required"`: a string must be non-empty, a list/map present and not null."""
    v = body.get(key)
    if kind is str:
        if not isinstance(v, str) or v == "":
            raise Refused(400, f"Key: '{key}' Error:Field validation for '{key}' failed on the 'required' tag")
    elif not isinstance(v, kind):
        raise Refused(400, f"Key: '{key}' Error:Field validation for '{key}' failed on the 'required' tag")


def typed(body, key, kind, nullable=True):
    """JSON decoding into hoop's Go type: a wrong type is a 400."""
    if key not in body or (body[key] is None and nullable):
        return
    v = body[key]
    if kind is list:
        ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
    elif kind == "objects":
        ok = isinstance(v, list) and all(isinstance(x, dict) for x in v)
    elif kind is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
    else:
        ok = isinstance(v, kind)
    if not ok:
        raise Refused(400, f"json: cannot unmarshal {key}")


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.token = args.token
        self.admin = not args.not_admin
        self.access_control = not args.no_access_control
        self.oss = args.oss
        self.agents = [{"id": str(uuid.uuid4()), "name": args.agent}]
        self.connections = {}
        self.access_rules = {}
        self.masking = {}
        self.guardrails = {}
        self.plugin_conns = {}
        self.identities = {}
        self.credentials = {}
        self.faults = []
        for f in args.fail:
            method, pattern, status = f.split(" ")
            self.faults.append((method, re.compile(pattern), int(status)))
        self.log = open(args.log, "a", encoding="utf-8")

    def record(self, method, path, body, status):
        self.log.write(json.dumps({"method": method, "path": path, "body": body, "status": status}) + "\n")
        self.log.flush()


def validate_connection(body):
    # Connection binding (types.go:371-442) and validateConnectionRequest (helpers.go:159-202).
    for k in ("name", "type", "agent_id", "access_mode_runbooks", "access_mode_exec",
              "access_mode_connect", "access_schema"):
        required(body, k, str)
    for k in ("access_mode_runbooks", "access_mode_exec", "access_mode_connect", "access_schema"):
        if body[k] not in ("enabled", "disabled"):  # the documented enum, types.go:427-442
            raise Refused(400, f"{k}: must be enabled or disabled")
    if body["type"] not in CONNECTION_TYPES:
        raise Refused(500, f"invalid input value for enum connection_type: {body['type']}")
    for k in ("reviewers", "redact_types", "tags", "guardrail_rules", "attributes", "command"):
        typed(body, k, list)
    typed(body, "subtype", str)
    typed(body, "connection_tags", dict)
    typed(body, "min_review_approvals", int)
    if not NAME_RE.match(body["name"]):
        raise Refused(422, "name: it must contain between 3 and 254 alphanumeric characters, it may include (-), (_) or (.) characters")
    tags = body.get("connection_tags") or {}
    if len(tags) > 10:
        raise Refused(422, "max tag association reached (10)")
    if body.get("min_review_approvals") is not None and body["min_review_approvals"] <= 0:
        raise Refused(422, "min review approvals must be greater than 0 or null")
    check_tags(tags)
    check_secret(body.get("secret"))


def check_tags(tags):
    for k, v in tags.items():
        if not (1 <= len(k) <= 64) or not TAG_KEY_RE.match(k):
            raise Refused(422, f"connection_tags ({k}), keys must contain between 1 and 64 alphanumeric characters")
        if not isinstance(v, str) or not (1 <= len(v) <= 256) or not TAG_VAL_RE.match(v):
            raise Refused(422, f"connection_tags ({k}), values must contain between 1 and 256 alphanumeric characters")


def check_secret(secret):
    # types.go:394-402: `envvar:NAME` / `filesystem:NAME` keys, base64 values; the agent
    # splits the key in exactly two (agent/terminal/envvar.go:52-96).
    if secret is None:
        return
    if not isinstance(secret, dict):
        raise Refused(400, "json: cannot unmarshal secret")
    for k, v in secret.items():
        parts = k.split(":")
        if len(parts) != 2 or parts[0] not in ("envvar", "filesystem") or not parts[1]:
            raise Refused(422, f"secret key {k}: must be envvar:NAME or filesystem:NAME")
        if v is None:
            continue
        if not isinstance(v, str):
            raise Refused(422, f"secret {k}: the value must be a base64 string")
        try:
            base64.b64decode(v, validate=True)
        except binascii.Error:
            raise Refused(422, f"secret {k}: the value is not base64")


def public(conn):
    return dict(conn)


class Handler(BaseHTTPRequestHandler):
    state = None

    def log_message(self, *_):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        st = self.state
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = None
        status, out = 500, {"message": "unhandled"}
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise Refused(400, "invalid character in the JSON body")
            with st.lock:
                status, out = self.route(method, path, body)
        except Refused as e:
            status, out = e.status, {"message": e.message}
        with st.lock:
            st.record(method, path, body, status)
        self.answer(status, out)

    do_GET = lambda self: self.handle_any("GET")
    do_POST = lambda self: self.handle_any("POST")
    do_PUT = lambda self: self.handle_any("PUT")
    do_PATCH = lambda self: self.handle_any("PATCH")
    do_DELETE = lambda self: self.handle_any("DELETE")

    def route(self, method, path, body):
        st = self.state
        for m, pattern, status in st.faults:
            if m == method and pattern.fullmatch(path):
                return status, {"message": "injected failure"}
        # gateway/api/apiroutes/auth.go:52-108: Bearer hpk_ or the legacy Api-Key header.
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else self.headers.get("Api-Key", "")
        if token != st.token:
            return 401, {"message": "access denied"}
        admin_only = method != "GET" or path.startswith("/api/plugins/")
        if admin_only and not st.admin:
            return 403, {"message": "access denied"}

        if path == "/api/userinfo" and method == "GET":
            return 200, {"email": "operator@example.test", "groups": ["admin"] if st.admin else ["dev"], "is_admin": st.admin}
        if path == "/api/agents" and method == "GET":
            return 200, st.agents

        m = re.fullmatch(r"/api/connections(?:/([^/]+))?", path)
        if m:
            return self.connections(method, m.group(1), body)
        m = re.fullmatch(r"/api/access-requests/rules(?:/([^/]+))?", path)
        if m:
            return self.access_rules(method, m.group(1), body)
        m = re.fullmatch(r"/api/(datamasking-rules|guardrails)(?:/([^/]+))?", path)
        if m:
            return self.rules(m.group(1), method, m.group(2), body)
        m = re.fullmatch(r"/api/plugins/([^/]+)/conn/([^/]+)", path)
        if m:
            return self.plugin_conn(method, m.group(1), m.group(2), body)
        m = re.fullmatch(r"/api/machineidentities(?:/([^/]+))?(/credentials/([^/]+)/rotate)?", path)
        if m:
            return self.identities(method, m.group(1), m.group(3), body)
        return 404, {"message": "404 page not found"}

    # -- connections: gateway/api/connections/connections.go ---------------------------
    def connections(self, method, name, body):
        st = self.state
        if name is None and method == "POST":
            fields(body, CONNECTION_FIELDS, "connection")
            validate_connection(body)
            if not any(a["id"] == body["agent_id"] for a in st.agents):
                raise Refused(500, "failed creating connection: agent_id violates a foreign key")
            if body["name"] in st.connections:  # connections.go:65-68
                return 409, {"message": "Connection already exists."}
            conn = {k: v for k, v in body.items() if k not in ("id", "status", "redact_enabled")}
            conn["id"] = str(uuid.uuid4())
            for k in ("reviewers", "guardrail_rules", "attributes", "redact_types"):
                conn[k] = conn.get(k) or []
            st.connections[body["name"]] = conn
            return 201, public(conn)
        if name is None:
            return 200, [public(c) for c in st.connections.values()]
        conn = st.connections.get(name) or next((c for c in st.connections.values() if c["id"] == name), None)
        if method == "GET":
            return (200, public(conn)) if conn else (404, {"message": "not found"})
        if conn is None:
            return 404, {"message": "not found"}
        if method == "PATCH":  # connections.go:274-404: only the given fields change
            fields(body, CONNECTION_PATCH_FIELDS, "connection patch")
            for k in ("reviewers", "redact_types", "tags", "guardrail_rules", "attributes", "command"):
                typed(body, k, list)
            typed(body, "connection_tags", dict)
            if body.get("connection_tags") is not None:
                if len(body["connection_tags"]) > 10:
                    raise Refused(422, "max tag association reached (10)")
                check_tags(body["connection_tags"])
            check_secret(body.get("secret"))
            for k, v in body.items():
                if v is not None:
                    conn[k] = v
            return 200, public(conn)
        if method == "PUT":  # connections.go:151-258: the whole connection is replaced
            fields(body, CONNECTION_FIELDS, "connection")
            validate_connection(body)
            new = {k: v for k, v in body.items() if k not in ("id", "status", "redact_enabled")}
            new["id"], new["name"] = conn["id"], conn["name"]
            for k in ("reviewers", "guardrail_rules", "attributes", "redact_types"):
                new[k] = new.get(k) or []
            st.connections[conn["name"]] = new
            return 200, public(new)
        return 404, {"message": "404 page not found"}

    # -- access-request rules: gateway/api/accessrequests/rules.go ---------------------
    def access_rules(self, method, name, body):
        st = self.state
        if name is None and method == "GET":
            return 200, {"data": list(st.access_rules.values()), "pages": {}}
        if name is not None and method == "GET":
            r = st.access_rules.get(name)
            return (200, r) if r else (404, {"message": "access request rule not found"})
        if method not in ("POST", "PUT"):
            return 404, {"message": "404 page not found"}
        fields(body, ACCESS_RULE_FIELDS, "access-request rule")
        # binding:"required" (types.go:3524-3541)
        required(body, "name", str)
        required(body, "access_type", str)
        for k in ("connection_names", "approval_required_groups", "reviewers_groups", "force_approval_groups"):
            required(body, k, list)
        for k in ("connection_names", "attributes", "approval_required_groups", "reviewers_groups",
                  "force_approval_groups", "skip_review_groups"):
            typed(body, k, list)
        typed(body, "all_groups_must_approve", bool)
        typed(body, "min_approvals", int)
        typed(body, "access_max_duration", int)
        # CreateAccessRequestRule (rules.go:84-93), after binding: the OSS edition keeps one rule.
        if method == "POST" and st.oss and len(st.access_rules) >= 1:
            return 403, {"message": "access request rules are limited to 1 in the OSS version"}
        existing = st.access_rules.get(name) if method == "PUT" else None
        if method == "PUT" and existing is None:
            return 404, {"message": "access request rule not found"}
        # GetAccessRequestRuleByResourceNamesAndAccessType (rules.go:97-110, 299-327)
        for r in st.access_rules.values():
            if r is existing:
                continue
            same_type = r["access_type"] == body["access_type"] or "jit_command" in (r["access_type"], body["access_type"])
            if same_type and set(r["connection_names"]) & set(body["connection_names"]):
                raise Refused(422, "an access request rule with the same connection names and access type already exists")
        # validateAccessRequestRuleBody (rules.go:19-57)
        if not NAME_RE.match(body["name"]):
            raise Refused(422, "name: it must contain between 3 and 254 alphanumeric characters")
        if not body["connection_names"] and not body.get("attributes"):
            raise Refused(422, "either connection_names or attributes must have at least 1 entry")
        if body["access_type"] not in ("jit", "command", "jit_command"):
            raise Refused(422, "access_type must be one of 'jit', 'command' or 'jit_command'")
        if not body["reviewers_groups"]:
            raise Refused(422, "reviewers_groups must have at least 1 entry")
        if not body.get("all_groups_must_approve") and (body.get("min_approvals") is None or body["min_approvals"] < 1):
            raise Refused(422, "min_approvals must be at least 1 when all_groups_must_approve is false")
        if body.get("skip_review_groups") and body["approval_required_groups"]:
            raise Refused(422, "skip_review_groups can only be set when approval_required_groups is empty")
        if method == "POST" and body["name"] in st.access_rules:
            raise Refused(422, "access request rule with the same name already exists")
        rule = {k: body.get(k) for k in ACCESS_RULE_FIELDS}
        rule["all_groups_must_approve"] = bool(body.get("all_groups_must_approve"))
        if method == "PUT":
            rule["name"] = existing["name"]
            rule["id"] = existing["id"]
            st.access_rules[name] = rule
            return 200, rule
        rule["id"] = str(uuid.uuid4())
        st.access_rules[body["name"]] = rule
        return 201, rule

    # -- data masking (gateway/api/datamasking/datamasking.go) and guardrails
    #    (gateway/api/guardrails/guardrails.go): listed, found and updated by id --------
    def rules(self, kind, method, rule_id, body):
        st = self.state
        store = st.masking if kind == "datamasking-rules" else st.guardrails
        if rule_id is None and method == "GET":
            return 200, list(store.values())
        if rule_id is not None and method == "GET":
            r = store.get(rule_id)
            return (200, r) if r else (404, {"message": "resource not found"})
        if method not in ("POST", "PUT"):
            return 404, {"message": "404 page not found"}
        if kind == "datamasking-rules":
            fields(body, MASKING_FIELDS, "data-masking rule")
            required(body, "name", str)  # types.go:2306
            typed(body, "connection_ids", list)
            typed(body, "attributes", list)
            typed(body, "supported_entity_types", "objects")
            typed(body, "custom_entity_types", "objects")
            # ValidateRulePayload (datamasking.go:116-143)
            score = body.get("score_threshold")
            if score is not None and (not isinstance(score, (int, float)) or not 0 <= score <= 1):
                raise Refused(400, "score threshold must be between 0 and 1")
            for e in body.get("supported_entity_types") or []:
                if not isinstance(e, dict) or set(e) - {"name", "entity_types"}:
                    raise Refused(400, "supported_entity_types: entries are {name, entity_types}")
                name, types = e.get("name") or "", e.get("entity_types") or []
                if not types or not name:
                    raise Refused(400, "missing entity types or name in supported entity types")
                if name != name.upper():
                    raise Refused(400, f"entity type name must be uppercase: {name}")
                for t in types:
                    if not isinstance(t, str) or not re.fullmatch(r"[A-Z0-9_]+", t):
                        raise Refused(400, f"entity type must contain only uppercase letters, digits, or underscores: {t!r}")
            for e in body.get("custom_entity_types") or []:
                if not isinstance(e, dict) or not e.get("name") or not (e.get("deny_list") or e.get("regex")):
                    raise Refused(400, "missing name, deny_list or regex in custom entity types")
        else:
            fields(body, GUARDRAIL_FIELDS, "guardrail")
            required(body, "name", str)  # types.go:1833
            typed(body, "connection_ids", list)
            typed(body, "attributes", list)
            typed(body, "input", dict)
            typed(body, "output", dict)
            for side in ("input", "output"):
                rules = (body.get(side) or {}).get("rules", [])
                if not isinstance(rules, list) or any(not isinstance(r, dict) or "type" not in r for r in rules):
                    raise Refused(400, f"{side}: rules are objects with a type")
        ids = body.get("connection_ids") or []
        known = {c["id"] for c in st.connections.values()}
        for i in ids:
            try:
                uuid.UUID(i)
            except ValueError:
                raise Refused(400, f"invalid connection ID {i}")
            if i not in known:  # datamasking.go:273-274
                raise Refused(400, "connection not found: a connection reference in the connection_ids field does not exist")
        if method == "POST":
            if any(r["name"] == body["name"] for r in store.values()):
                return 409, {"message": "resource already exists"}
            rule = dict(body)
            rule["id"] = str(uuid.uuid4())
            rule["managed_by"] = None
            store[rule["id"]] = rule
            return 201, rule
        existing = store.get(rule_id)
        if existing is None:
            return 404, {"message": "resource not found"}
        rule = dict(body)
        rule["id"] = existing["id"]
        rule["managed_by"] = None
        store[rule_id] = rule
        return 200, rule

    # -- plugin connections: gateway/api/pluginconnections/pluginconnections.go --------
    def plugin_conn(self, method, plugin, conn_id, body):
        st = self.state
        known = any(c["id"] == conn_id for c in st.connections.values())
        exists = plugin == "access_control" and st.access_control and known
        if method == "GET":
            cfg = st.plugin_conns.get((plugin, conn_id))
            if not exists or cfg is None:
                return 404, {"message": "either the plugin or the connection does not exist"}
            return 200, {"id": conn_id, "plugin_id": plugin, "connection_id": conn_id, "config": cfg}
        if method == "PUT":
            if plugin in ("review", "dlp"):
                return 400, {"message": "unable to manage review or dlp plugins, use the connection endpoint instead"}
            fields(body, {"config"}, "plugin connection")
            typed(body, "config", list)
            if not exists:
                return 404, {"message": "either the plugin or the connection does not exist"}
            st.plugin_conns[(plugin, conn_id)] = body.get("config") or []
            return 200, {"id": conn_id, "plugin_id": plugin, "connection_id": conn_id, "config": st.plugin_conns[(plugin, conn_id)]}
        return 404, {"message": "404 page not found"}

    # -- machine identities: gateway/api/machineidentity, gateway/services/machineidentity.go
    def credential(self, mi, conn_name):
        token = "mit_" + uuid.uuid4().hex
        self.state.credentials[(mi, conn_name)] = token
        c = self.state.connections[conn_name]
        return {"connection_name": conn_name, "connection_type": c["type"], "connection_subtype": c.get("subtype", ""),
                "secret_key": token, "hostname": "gateway.test", "port": "8443", "proxy_token": token}

    def check_mi_connection(self, name):
        c = self.state.connections.get(name)
        if c is None:
            raise Refused(400, f"failed creating machine identity: connection {name} not found")
        subtype = c.get("subtype") or ""
        if c["type"] == "httpproxy" or (c["type"] == "application" and subtype in ("httpproxy", "kibana", "grafana")):
            subtype = "httpproxy"  # MapValidSubtypeToHttpProxy
        if subtype not in MI_SUBTYPES:
            raise Refused(400, f"connection {name} has unsupported type {subtype} for machine identities")
        if c.get("access_mode_connect") != "enabled":
            raise Refused(400, f"connection {name} does not have access mode connect enabled")

    def identities(self, method, name, rotate_conn, body):
        st = self.state
        if rotate_conn is not None:
            if method != "POST" or (name, rotate_conn) not in st.credentials:
                return 404, {"message": "machine identity or credential not found"}
            return 201, self.credential(name, rotate_conn)
        if name is None and method == "GET":
            return 200, list(st.identities.values())
        if name is not None and method == "GET":
            mi = st.identities.get(name)
            return (200, mi) if mi else (404, {"message": "machine identity not found"})
        if method not in ("POST", "PUT"):
            return 404, {"message": "404 page not found"}
        fields(body, MI_FIELDS, "machine identity")
        typed(body, "connection_names", list)
        typed(body, "attributes", list)
        if not body.get("name"):
            return 422, {"message": "name is required"}
        wanted = body.get("connection_names") or []
        if method == "POST":
            if body["name"] in st.identities:
                return 409, {"message": "machine identity with this name already exists"}
            for n in wanted:
                self.check_mi_connection(n)
            mi = {"id": str(uuid.uuid4()), "name": body["name"], "description": body.get("description", ""),
                  "connection_names": wanted, "attributes": body.get("attributes") or []}
            st.identities[mi["name"]] = mi
            return 201, dict(mi, credentials=[self.credential(mi["name"], n) for n in wanted])
        mi = st.identities.get(name)
        if mi is None:
            return 404, {"message": "machine identity not found"}
        added = [n for n in wanted if n not in mi["connection_names"]]
        for n in added:
            self.check_mi_connection(n)
        for n in mi["connection_names"]:
            if n not in wanted:  # removing a connection revokes its credential
                st.credentials.pop((name, n), None)
        mi.update(description=body.get("description", ""), connection_names=wanted, attributes=body.get("attributes") or [])
        return 200, dict(mi, new_credentials=[self.credential(name, n) for n in added])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--token", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--agent", default="default")
    p.add_argument("--not-admin", action="store_true")
    p.add_argument("--no-access-control", action="store_true")
    p.add_argument("--oss", action="store_true")
    p.add_argument("--fail", action="append", default=[])
    args = p.parse_args()
    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
