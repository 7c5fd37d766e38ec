// Decisions of the LuCI page: which controls, which words, for every site
// mode with and without the owner's override, and for every way a call fails.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { loadClass, format } = require('./luci-loader');

const present = loadClass('mesh-vpn-wg/present.js');

// The `loadbalancing` block as the daemon reports it (domain.md 4.6, absent key = off).
function block(site_mode, override_, effective, user_changeable) {
	return { site_mode, override: override_, effective, user_changeable };
}

const CASES = [
	// site mode, override, effective, changeable, switch shown, reason contains
	['on', null, true, false, false, 'fixed'],
	['on', false, true, false, false, 'fixed'],
	['off', null, false, false, false, 'fixed'],
	['off', true, false, false, false, 'fixed'],
	['on-by-default', null, true, true, true, 'default. You may'],
	['on-by-default', false, false, true, true, 'default is on'],
	['off-by-default', null, false, true, true, 'default. You may'],
	['off-by-default', true, true, true, true, 'default is off'],
	[null, null, false, false, false, 'does not offer'],
	[null, true, false, false, false, 'does not offer'],
];

for (const [mode, override_, effective, changeable, showSwitch, reason] of CASES) {
	test(`site mode ${mode} with override ${override_}`, () => {
		const lb = present.loadbalancing(block(mode, override_, effective, changeable));
		assert.equal(lb.showSwitch, showSwitch);
		assert.equal(lb.checked, effective);
		assert.match(lb.summary, effective ? /^On: the broker/ : /^Off: this node picks/);
		assert.ok(lb.reason.includes(reason), `reason "${lb.reason}" lacks "${reason}"`);
	});
}

test('the switch follows user_changeable, not the site mode name', () => {
	// A daemon that says "not changeable" wins even in a *-by-default mode.
	assert.equal(present.loadbalancing(block('on-by-default', null, true, false)).showSwitch, false);
	assert.equal(present.loadbalancing(block('on-by-default', null, true, 'yes')).showSwitch, false);
});

test('a missing or malformed block shows no switch', () => {
	for (const lb of [null, undefined, 'on', 1]) {
		const shown = present.loadbalancing(lb);
		assert.equal(shown.showSwitch, false);
		assert.equal(shown.effective, null);
		assert.match(shown.summary, /^Unknown/);
	}
});

test('daemon absent: uhttpd says object not found', () => {
	const err = new Error('RPC call to mesh_vpn/status failed with error -32000: Object not found');
	assert.equal(present.failure(err).kind, 'absent');
	assert.match(present.failure(err).text, /not running/);
	assert.equal(present.ubusFailure(4).kind, 'absent');
});

test('permission denied by the site: ubus status 6 arrives as a resolved number', () => {
	const out = present.outcome(6);
	assert.equal(out.ok, undefined);
	assert.equal(out.failure.kind, 'fixed');
	assert.match(out.failure.text, /community fixed/);
	// With `reject: true` LuCI would raise instead; the same words result.
	const raised = new Error('RPC call to mesh_vpn/set_loadbalancing failed with ubus code 6: Permission denied');
	assert.deepEqual(present.failure(raised), out.failure);
});

test('access denied by the rpcd ACL and timeouts', () => {
	const denied = new Error('RPC call to mesh_vpn/set_loadbalancing failed with error -32002: Access denied');
	assert.equal(present.failure(denied).kind, 'denied');
	assert.match(present.failure(denied).text, /luci-app-mesh-vpn-wg/);
	const slow = new Error('RPC call to mesh_vpn/status failed with error -32003: ubus request timed out');
	assert.equal(present.failure(slow).kind, 'timeout');
});

test('other failures keep their detail', () => {
	assert.equal(present.outcome(2).failure.kind, 'failed');
	assert.match(present.outcome(2).failure.text, /status 2/);
	const http = new Error('RPC call to mesh_vpn/status failed with HTTP error 502: Bad Gateway');
	assert.match(present.failure(http).text, /HTTP error 502/);
	assert.equal(present.failure('plain string').kind, 'failed');
	assert.equal(present.outcome(null).failure.kind, 'failed');
});

test('a successful reply passes through', () => {
	const reply = { state: 'connected', loadbalancing: block('on', null, true, false) };
	assert.equal(present.outcome(reply).ok, reply);
	assert.deepEqual(present.outcome(0), { ok: {} });
});

test('states in words, unknown ones named', () => {
	assert.match(present.state('connected'), /^Connected/);
	assert.match(present.state('disabled'), /switched off/);
	assert.equal(present.state('warp'), 'Unknown state "warp".');
});

test('ages', () => {
	assert.equal(present.age(null), 'never');
	assert.equal(present.age(-1), 'never');
	assert.equal(present.age(0), '0 seconds ago');
	assert.equal(present.age(1), '1 second ago');
	assert.equal(present.age(59.5), '59 seconds ago');
	assert.equal(present.age(61), '1 minute ago');
	assert.equal(present.age(7200), '2 hours ago');
	assert.equal(present.age(86400), '1 day ago');
	assert.equal(present.age(3 * 86400 + 5), '3 days ago');
});

// _('%d days ago') gave "vor 1 Tagen"; N_ picks the German singular.
test('German ages use the plural forms', () => {
	const german = loadClass('mesh-vpn-wg/present.js', path.join(__dirname, '..', 'po', 'de', 'mesh-vpn-wg.po'));
	assert.equal(german.age(86400), 'vor 1 Tag');
	assert.equal(german.age(2 * 86400), 'vor 2 Tagen');
	assert.equal(german.age(60), 'vor 1 Minute');
	assert.equal(german.age(1), 'vor 1 Sekunde');
	const french = loadClass('mesh-vpn-wg/present.js', path.join(__dirname, '..', 'po', 'fr', 'mesh-vpn-wg.po'));
	assert.equal(french.age(0), 'il y a 0 seconde');
	assert.equal(french.age(2 * 3600), 'il y a 2 heures');
});

// Reconnect is offered only where the daemon acts on it (src/engine/run.rs:
// ignored while disabled or without uplink), and the notice says what happens.
test('reconnect per state', () => {
	for (const state of ['disabled', 'no_uplink', 'idle', 'syncing_time', 'exchanging_key', 'connecting', 'error', 'bogus']) {
		const r = present.reconnect(state);
		assert.equal(r.offer, false, state);
		assert.equal(r.done, '', state);
	}
	assert.match(present.reconnect('disabled').hint, /switched off/);
	assert.match(present.reconnect('no_uplink').hint, /uplink is back/);
	assert.equal(present.reconnect('connected').offer, true);
	assert.match(present.reconnect('connected').done, /drops the tunnel/);
	assert.match(present.reconnect('backoff').done, /skips the wait/);
});

test('state badge', () => {
	assert.deepEqual(present.badge('connected'), { kind: 'ok', text: 'connected' });
	assert.equal(present.badge('disabled').kind, 'off');
	assert.equal(present.badge('connecting').kind, 'busy');
	assert.equal(present.badge('no_uplink').kind, 'bad');
	assert.deepEqual(present.badge('bogus'), { kind: 'bad', text: 'unknown' });
});

test('traffic', () => {
	assert.equal(present.bytes(0), '0 B');
	assert.equal(present.bytes(1023), '1023 B');
	assert.equal(present.bytes(1536), '1.5 KiB');
	assert.equal(present.bytes(5 * 1024 * 1024 * 1024), '5.0 GiB');
	assert.equal(present.bytes(undefined), '-');
});

test('gateway', () => {
	assert.equal(present.gateway(null), 'none');
	const peer = { source: 'broker', name: 'gw04', endpoint: 'gw04.example.net:40011' };
	assert.equal(present.gateway(peer), 'gw04 (gw04.example.net:40011, assigned by the broker)');
	assert.match(present.gateway({ ...peer, source: 'site' }), /chosen from the site/);
});

test('the format stand-in matches LuCI for the conversions used', () => {
	assert.equal(format.call('%d/%s/%.1f/%%', 3.7, 'x', 1.25), '3/x/1.3/%');
});
