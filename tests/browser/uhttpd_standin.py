"""uhttpd STAND-IN for the browser test (never shipped): serves the LuCI
stand-in page and the app's htdocs, and answers POST /ubus the way
uhttpd-mod-ubus does (ubus-rpcd-uhttpd.md section 5), forwarding calls to a
real ubusd socket. Sessions and ACLs emulate rpcd with the app's own
acl.d file, so the test also proves that file grants what the view needs.

usage: uhttpd_standin.py --socket PATH --acl FILE --htdocs DIR --standin DIR
Prints "listening on PORT" once ready."""

import argparse
import fnmatch
import json
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import ubus_client

DEFAULT_SID = "0" * 32
# The menu node's ACL dependency (root/usr/share/luci/menu.d/luci-app-mesh-vpn-wg.json).
VIEW_GROUP = "luci-app-mesh-vpn-wg"
TIMEOUT_SECONDS = 10
# rpcd users of this test: password, and the access groups granted as (read, write).
USERS = {
    "admin": ("labpass", ["luci-app-mesh-vpn-wg"], ["luci-app-mesh-vpn-wg"]),
    "viewer": ("labpass", ["luci-app-mesh-vpn-wg"], []),
}


def rpc_error(req_id, code, message):
    return {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}


def rpc_result(req_id, result):
    return {"jsonrpc": "2.0", "id": req_id, "result": result}


class Rpcd:
    """Sessions and `ubus` scope grants, computed like rpcd from acl.d."""

    def __init__(self, acl_file):
        self.groups = json.loads(Path(acl_file).read_text())
        self.sessions = {}
        self.lock = threading.Lock()

    def login(self, username, password):
        user = USERS.get(username)
        if user is None or user[0] != password:
            return None
        grants = []
        for level, names in (("read", user[1]), ("write", user[2])):
            for name in names:
                grants.extend(self.groups.get(name, {}).get(level, {}).get("ubus", {}).items())
        sid = secrets.token_hex(16)
        with self.lock:
            self.sessions[sid] = (grants, set(user[1]), set(user[2]))
        return {"ubus_rpc_session": sid, "timeout": 300, "expires": 300, "data": {"username": username}}

    def nodespec(self, sid, group):
        """What LuCI's server puts in env.nodespec: `satisfied` when the session
        holds the node's ACL group, `readonly` when only for reading."""
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            return {"satisfied": False, "readonly": False}
        _, read, write = session
        return {"satisfied": group in read or group in write, "readonly": group not in write}

    def allowed(self, sid, obj, method):
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            return False
        grants = session[0]
        return any(
            fnmatch.fnmatchcase(obj, pattern) and any(fnmatch.fnmatchcase(method, f) for f in functions)
            for pattern, functions in grants
        )


class Handler(BaseHTTPRequestHandler):
    server_version = "uhttpd-standin"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/":
            return self.send_page(parse_qs(query))
        if path == "/standin/luci.js":
            return self.send_file(self.server.standin / "luci.js", "application/javascript")
        root = self.server.htdocs.resolve()
        target = (root / path.lstrip("/")).resolve()
        if root in target.parents and target.is_file():
            return self.send_file(target, "application/javascript")
        self.send_body(404, b"not found", "text/plain")

    def do_POST(self):
        if self.path.split("?", 1)[0] not in ("/ubus", "/ubus/"):
            return self.send_body(404, b"not found", "text/plain")
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            request = json.loads(body)
        except ValueError:
            reply = rpc_error(None, -32700, "Parse error")
        else:
            if isinstance(request, list):
                reply = [self.handle_one(r) for r in request]
            else:
                reply = self.handle_one(request)
        self.send_body(200, json.dumps(reply).encode(), "application/json")

    def handle_one(self, request):
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
            return rpc_error(request.get("id") if isinstance(request, dict) else None, -32700, "Parse error")
        req_id = request.get("id")
        if request["method"] != "call":
            return rpc_error(req_id, -32601, "Method not found")
        params = request.get("params")
        if not (isinstance(params, list) and len(params) == 4 and isinstance(params[3], dict)):
            return rpc_error(req_id, -32700, "Parse error")
        sid, obj, method, args = params
        if "ubus_rpc_session" in args:
            return rpc_error(req_id, -32602, "Invalid parameters")
        if obj == "session" and method == "login":
            session = self.server.rpcd.login(args.get("username"), args.get("password"))
            return rpc_result(req_id, [0, session] if session else [6])
        return self.forward(req_id, sid, obj, method, args)

    def forward(self, req_id, sid, obj, method, args):
        try:
            ubus = ubus_client.Ubus(self.server.socket_path, TIMEOUT_SECONDS)
        except OSError:
            return rpc_error(req_id, -32603, "Internal error")
        try:
            objid = ubus.lookup(obj)
            if objid is None:
                return rpc_error(req_id, -32000, "Object not found")
            if not self.server.rpcd.allowed(sid, obj, method):
                return rpc_error(req_id, -32002, "Access denied")
            # uhttpd appends the caller's session as the last argument.
            status, data = ubus.invoke(objid, method, dict(args, ubus_rpc_session=sid))
            return rpc_result(req_id, [status, data] if data is not None else [status])
        except ubus_client.UbusTimeout:
            return rpc_error(req_id, -32003, "ubus request timed out")
        except (OSError, ValueError):
            return rpc_error(req_id, -32603, "Internal error")
        finally:
            ubus.close()

    def send_page(self, query):
        """The stand-in page with what LuCI's server renders into it: the
        session's node permissions and the language's catalogue."""
        sid = query.get("sid", [DEFAULT_SID])[0]
        lang = query.get("lang", ["en"])[0]
        page = (self.server.standin / "index.html").read_text()
        page = page.replace("/*NODESPEC*/null", json.dumps(self.server.rpcd.nodespec(sid, VIEW_GROUP)))
        page = page.replace("/*TR*/{}", json.dumps(catalogue(self.server.po / lang / "mesh-vpn-wg.po")))
        self.send_body(200, page.encode(), "text/html")

    def send_file(self, path, content_type):
        self.send_body(200, path.read_bytes(), content_type)

    def send_body(self, code, body, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def po_string(text):
    return json.loads(f'"{text}"')


def catalogue(po_file):
    """A .po file as window.TR for the stand-in's _() and N_(), laid out as
    LuCI's (cbi.js) but keyed by text, not by its hash: msgid -> msgstr,
    singular + U+0002 + form index -> that form, "00000000" -> plural rule."""
    if not re.fullmatch(r"[a-z_A-Z]+", po_file.parent.name) or not po_file.is_file():
        return {}
    tr, entry = {}, {}
    for line in po_file.read_text().splitlines() + [""]:
        m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[(\d)\])?) "(.*)"$', line)
        if m:
            entry[m.group(1)] = po_string(m.group(3))
        elif line.startswith('"') and entry:
            last = list(entry)[-1]
            entry[last] += po_string(line[1:-1])
        elif not line.strip() and entry:
            if entry.get("msgid") == "":
                rule = re.search(r"Plural-Forms:[^;]*;\s*(plural=[^;]*;)", entry.get("msgstr", ""))
                tr["00000000"] = rule.group(1) if rule else "plural=(n != 1);"
            elif "msgid_plural" in entry:
                for key in sorted(k for k in entry if k.startswith("msgstr[") and entry[k]):
                    tr[entry["msgid"] + "\u0002" + key[7:-1]] = entry[key]
            elif entry.get("msgstr"):
                tr[entry["msgid"]] = entry["msgstr"]
            entry = {}
    return tr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--acl", required=True)
    parser.add_argument("--htdocs", required=True)
    parser.add_argument("--standin", required=True)
    parser.add_argument("--po", required=True, help="the app's po/ directory")
    options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket_path = options.socket
    server.rpcd = Rpcd(options.acl)
    server.htdocs = Path(options.htdocs)
    server.standin = Path(options.standin)
    server.po = Path(options.po)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
