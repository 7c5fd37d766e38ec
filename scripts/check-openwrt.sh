#!/usr/bin/env bash
# Checks the OpenWrt/Gluon side: shellcheck on every shell script, luacheck
# and the Lua unit tests (package Lua over uci fixture trees), the rpcd ACL
# semantics test, and JSON validity of every ACL and menu file. Installs its
# tools with apt-get when missing. Exits non-zero if any check fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

failed=()
section() { printf '\n=== %s ===\n' "$*"; }
fail() { echo "check-openwrt: FAILED: $*" >&2; failed+=("$1"); }

install_missing() {
	local need=() pkg
	for pkg in shellcheck lua5.1 lua-check lua-cjson wireguard-tools python3; do
		dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "check-openwrt: need root to install: ${need[*]}" >&2
		return 1
	fi
	echo "installing: ${need[*]}"
	# Other jobs may hold the dpkg lock for a while; wait instead of failing.
	apt-get -o DPkg::Lock::Timeout=600 update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
			install -y -qq "${need[@]}" >/dev/null
}

# Tracked and new (not ignored) files, so build output never gets checked.
repo_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files --cached --others --exclude-standard -z -- "$@" |
			while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\n' "$f"; done
	else
		find "$@" -type f -not -path '*/target/*' -not -path '*/node_modules/*' 2>/dev/null
	fi
}

first_line_matches() { head -n 1 "$1" 2>/dev/null | grep -Eq "$2"; }

shell_scripts() {
	local f
	while IFS= read -r f; do
		case "$f" in
			*.sh) echo "$f" ;;
			*) first_line_matches "$f" '^#!.*[/ ](ba|da|a)?sh( |$)' && echo "$f" ;;
		esac
	done < <(repo_files .)
}

lua_files() {
	local f
	while IFS= read -r f; do
		case "$f" in
			*.lua) echo "$f" ;;
			*) first_line_matches "$f" '^#!.*lua' && echo "$f" ;;
		esac
	done < <(repo_files openwrt)
}

section "tools"
install_missing || fail "installing tools"

section "shellcheck"
mapfile -t scripts < <(shell_scripts)
printf '  %s\n' "${scripts[@]}"
if [ ${#scripts[@]} -eq 0 ]; then
	fail "shellcheck: no shell scripts found"
else
	shellcheck -x "${scripts[@]}" || fail "shellcheck"
fi

section "luacheck"
mapfile -t luas < <(lua_files)
luacheck --no-color --codes --config openwrt/.luacheckrc "${luas[@]}" || fail "luacheck"

section "Lua unit tests"
# provider_test runs the real binary; build it (incremental after cargo test).
binary="${CARGO_TARGET_DIR:-target}/debug/mesh-vpn-wg"
if command -v cargo >/dev/null 2>&1; then
	cargo build --locked -q --bin mesh-vpn-wg || fail "cargo build (for provider_test)"
fi
[ -x "$binary" ] || echo "SKIP: no $binary; provider_test skips its binary cases" >&2
MESH_VPN_WG_BIN="$(realpath -m "$binary")" lua5.1 openwrt/tests/run.lua openwrt/tests/*_test.lua ||
	fail "Lua unit tests"

section "package conventions and procd init script"
sh openwrt/tests/package_test.sh || fail "package conventions"
sh openwrt/tests/init_script_test.sh || fail "procd init script test"

section "rpcd ACL semantics"
python3 openwrt/tests/acl_semantics_test.py || fail "rpcd ACL semantics"

section "JSON validity (ACL and menu files)"
mapfile -t jsons < <(repo_files rpcd-acl openwrt luci-app-mesh-vpn-wg | grep '\.json$')
printf '  %s\n' "${jsons[@]}"
[ ${#jsons[@]} -gt 0 ] || fail "JSON: no ACL file found"
for f in "${jsons[@]}"; do
	python3 -m json.tool "$f" >/dev/null || fail "JSON: $f is not valid JSON"
done

if [ ${#failed[@]} -gt 0 ]; then
	printf '\ncheck-openwrt: %d check(s) failed:\n' "${#failed[@]}" >&2
	printf '  - %s\n' "${failed[@]}" >&2
	exit 1
fi
printf '\ncheck-openwrt: all checks passed\n'
