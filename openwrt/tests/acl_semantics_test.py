#!/usr/bin/env python3
"""The rpcd ACL files, evaluated the way rpcd does (ubus-rpcd-uhttpd.md 4.2-4.4).

rpcd at `session login`: for every access group in every ACL file and each
of its "read"/"write" tables, the user's `list read` / `list write` globs
decide whether the table applies ('!glob' denies first; write implies read;
the default session gets only the group "unauthenticated"). A table scope
{"obj": ["fn", ...]} grants (scope, obj, fn); an array scope ["obj", ...]
grants (scope, obj, "read"|"write"). Each applied table also grants
("access-group", group, perm). A later access check is fnmatch of the
granted object and function against the requested ones.
The evaluator is first checked against a session recorded from a real rpcd.
"""

import fnmatch
import json
import pathlib
import sys
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
GROUP = "luci-app-mesh-vpn-wg"
CANONICAL_ACL = REPO / "rpcd-acl" / f"{GROUP}.json"
PERMS = ("read", "write")


def permitted(login, perm, group):
    """rpcd's rpc_login_test_permission; login None is the default session."""
    if login is None:
        return group == "unauthenticated"
    globs = login.get(perm, [])
    if any(g.startswith("!") and fnmatch.fnmatchcase(group, g[1:]) for g in globs):
        return False
    if any(g and not g.startswith("!") and fnmatch.fnmatchcase(group, g) for g in globs):
        return True
    return perm == "read" and permitted(login, "write", group)


def session_grants(acl_files, login):
    grants = set()
    for acl in acl_files:
        for group, body in acl.items():
            if not isinstance(body, dict):
                continue
            for perm in PERMS:
                table = body.get(perm)
                if not isinstance(table, dict) or not permitted(login, perm, group):
                    continue
                for scope, value in table.items():
                    if isinstance(value, dict):
                        for obj, functions in value.items():
                            if isinstance(functions, list):
                                grants |= {(scope, obj, f) for f in functions if isinstance(f, str)}
                    elif isinstance(value, list):
                        grants |= {(scope, obj, perm) for obj in value if isinstance(obj, str)}
                    grants.add(("access-group", group, perm))
    return grants


def allowed(grants, scope, obj, function):
    return any(
        s == scope and fnmatch.fnmatchcase(obj, o) and fnmatch.fnmatchcase(function, f)
        for s, o, f in grants
    )


def as_acls_table(grants):
    """The "acls" object `session login` prints."""
    table = {}
    for scope, obj, function in grants:
        table.setdefault(scope, {}).setdefault(obj, set()).add(function)
    return {s: {o: sorted(f) for o, f in objs.items()} for s, objs in table.items()}


def load(path):
    with open(path, encoding="utf-8") as file:
        acl = json.load(file)
    if not isinstance(acl, dict):
        raise ValueError(f"{path}: the top level must be an object of access groups")
    return acl


def luci_app_acls():
    return sorted((REPO / "luci-app-mesh-vpn-wg").glob("**/usr/share/rpcd/acl.d/*.json"))


READER = {"read": [GROUP]}
WRITER = {"write": [GROUP]}
READ_GRANTS = {
    ("ubus", "mesh_vpn", "status"),
    ("access-group", GROUP, "read"),
}
WRITE_GRANTS = READ_GRANTS | {
    ("ubus", "mesh_vpn", "reconnect"),
    ("ubus", "mesh_vpn", "set_loadbalancing"),
    ("access-group", GROUP, "write"),
}


class EvaluatorMatchesRealRpcd(unittest.TestCase):
    """The lab ACL and the login rpcd printed for it (ubus-rpcd-uhttpd.md 4.3, 4.4)."""

    LAB = {
        "unauthenticated": {"read": {"ubus": {"session": ["access", "login"]}}},
        "lab-reader": {"read": {
            "ubus": {"session": ["list", "access"], "uci": ["get", "configs"], "lab.echo": ["echo"]},
            "uci": ["labcfg"]}},
        "lab-writer": {"write": {"ubus": {"uci": ["set", "commit"]}, "uci": ["labcfg"]}},
        "lab-all": {"read": {"ubus": {"*": ["*"]}, "uci": ["*"]},
                    "write": {"ubus": {"*": ["*"]}, "uci": ["*"]}},
    }
    RECORDED = {
        "access-group": {"lab-reader": ["read"], "unauthenticated": ["read"]},
        "ubus": {"lab.echo": ["echo"], "session": ["access", "list", "login"], "uci": ["configs", "get"]},
        "uci": {"labcfg": ["read"]},
    }

    def test_lab_login_reproduces_the_recorded_acls(self):
        grants = session_grants([self.LAB], {"read": ["lab-reader", "unauthenticated"]})
        self.assertEqual(as_acls_table(grants), self.RECORDED)

    def test_recorded_access_answers(self):
        grants = session_grants([self.LAB], {"read": ["lab-reader", "unauthenticated"]})
        self.assertTrue(allowed(grants, "ubus", "session", "list"))
        self.assertFalse(allowed(grants, "ubus", "session", "destroy"))
        self.assertFalse(allowed(grants, "uci", "labcfg", "write"))

    def test_negation_wins_and_write_implies_read(self):
        admin = session_grants([self.LAB], {"read": ["*", "!lab-all"], "write": []})
        self.assertFalse(allowed(admin, "ubus", "anything", "at-all"))
        writer = session_grants([self.LAB], {"write": ["lab-writer"]})
        self.assertIn(("access-group", "lab-writer", "write"), writer)
        self.assertTrue(allowed(writer, "uci", "labcfg", "write"))


class MeshVpnAcl(unittest.TestCase):
    def setUp(self):
        self.acl = load(CANONICAL_ACL)

    def test_only_our_group_with_plain_names(self):
        self.assertEqual(list(self.acl), [GROUP])
        for scope, obj, function in session_grants([self.acl], WRITER):
            for name in (obj, function):
                self.assertFalse(set(name) & set("*?[!"), f"glob in {scope} {obj} {function}")

    def test_read_group_grants_exactly_status(self):
        self.assertEqual(session_grants([self.acl], READER), READ_GRANTS)

    def test_write_group_adds_exactly_reconnect_and_set_loadbalancing(self):
        self.assertEqual(session_grants([self.acl], WRITER), WRITE_GRANTS)

    def test_access_checks(self):
        reader = session_grants([self.acl], READER)
        writer = session_grants([self.acl], WRITER)
        for grants in (reader, writer):
            self.assertTrue(allowed(grants, "ubus", "mesh_vpn", "status"))
            self.assertFalse(allowed(grants, "uci", "wireguard", "read"))
            self.assertFalse(allowed(grants, "uci", "wireguard", "write"))
            self.assertFalse(allowed(grants, "uci", "network", "read"))
            self.assertFalse(allowed(grants, "ubus", "mesh_vpn", "slow"))
            self.assertFalse(allowed(grants, "ubus", "uci", "set"))
            self.assertFalse(allowed(grants, "ubus", "file", "exec"))
        for method in ("reconnect", "set_loadbalancing"):
            self.assertFalse(allowed(reader, "ubus", "mesh_vpn", method))
            self.assertTrue(allowed(writer, "ubus", "mesh_vpn", method))

    def test_nothing_for_the_default_session_or_other_groups(self):
        self.assertEqual(session_grants([self.acl], None), set())
        self.assertEqual(session_grants([self.acl], {"read": ["luci-app-other"], "write": ["x"]}), set())
        self.assertEqual(session_grants([self.acl], {"write": ["*", f"!{GROUP}"]}), set())

    def test_no_grant_exposes_the_private_key(self):
        """wireguard.mesh_vpn.privatekey is readable through rpcd with a UCI
        read grant on `wireguard` (`uci get`, verified on real rpcd + uhttpd),
        or through the file, or by running a command; no login to any ACL file
        of this package, even one holding every group, may get any of them."""
        logins = (READER, WRITER, {"read": ["*"], "write": ["*"]})
        for path in [CANONICAL_ACL, *luci_app_acls()]:
            acl = load(path)
            for login in logins:
                grants = session_grants([acl], login)
                for scope, obj, function in (
                    ("uci", "wireguard", "read"),
                    ("uci", "wireguard", "write"),
                    ("file", "/etc/config/wireguard", "read"),
                    ("ubus", "file", "read"),
                    ("ubus", "file", "exec"),
                    ("ubus", "uci", "get"),
                ):
                    self.assertFalse(
                        allowed(grants, scope, obj, function),
                        f"{path}: {login} may {function} {scope} {obj}, which exposes "
                        "wireguard.mesh_vpn.privatekey",
                    )

    def test_luci_app_ships_the_same_grants(self):
        copies = luci_app_acls()
        if not copies:
            print("SKIP: no luci-app-mesh-vpn-wg ACL in this tree to compare", file=sys.stderr)
            self.skipTest("no luci-app-mesh-vpn-wg ACL in this tree")
        for path in copies:
            other = load(path)
            for login in (READER, WRITER, None):
                self.assertEqual(session_grants([other], login), session_grants([self.acl], login), str(path))


if __name__ == "__main__":
    unittest.main(verbosity=2)
