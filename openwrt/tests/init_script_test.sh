#!/bin/sh
# The procd init script, run against recording stand-ins for rc.common's
# procd_* helpers (TEST STAND-INS, not procd): checks what it asks procd for.
set -eu

script="$(dirname "$0")/../mesh-vpn-wg/files/etc/init.d/mesh-vpn-wg"
calls=""
procd_open_instance() { calls="$calls|open_instance"; }
procd_set_param() { calls="$calls|set_param $*"; }
procd_close_instance() { calls="$calls|close_instance"; }
procd_add_reload_trigger() { calls="$calls|reload_trigger $*"; }

# shellcheck source-path=SCRIPTDIR source=../mesh-vpn-wg/files/etc/init.d/mesh-vpn-wg
. "$script"
start_service
service_triggers

failures=0
expect() {
	case "$calls|" in
		*"|$1|"*) echo "ok    init script: $1" ;;
		*) echo "FAIL  init script: missing '$1' in: $calls"; failures=$((failures + 1)) ;;
	esac
}

expect "open_instance"
expect "set_param command /usr/bin/mesh-vpn-wg daemon"
expect "set_param respawn"
expect "set_param group gluon-mesh-vpn"
expect "set_param reload_signal HUP"
expect "set_param term_timeout 10"
expect "close_instance"
expect "reload_trigger wireguard gluon"
[ "$USE_PROCD" = 1 ] || { echo "FAIL  init script: USE_PROCD is not 1"; failures=$((failures + 1)); }
case "$calls" in
	*"set_param user"*) echo "FAIL  init script: the daemon needs root (CAP_NET_ADMIN)"; failures=$((failures + 1)) ;;
esac
[ "$failures" -eq 0 ]
