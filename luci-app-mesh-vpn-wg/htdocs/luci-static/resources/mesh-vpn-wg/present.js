'use strict';
'require baseclass';

/*
 * The decisions of the mesh VPN page, kept free of DOM and RPC so that
 * node's test runner can check them: which controls to show, and the words
 * for the daemon's `mesh_vpn status` reply and for every way a call can fail.
 */

var STATES = {
	disabled: _('Disabled: the mesh VPN is switched off on this node.'),
	idle: _('Idle: waiting to connect.'),
	syncing_time: _('Setting the clock before contacting the broker.'),
	exchanging_key: _('Registering this node\'s key with the broker.'),
	connecting: _('Connecting to the gateway.'),
	connected: _('Connected to the gateway.'),
	backoff: _('Waiting before the next connection attempt.'),
	no_uplink: _('No internet uplink: the gateway cannot be reached.'),
	error: _('Error: the mesh VPN could not be set up.')
};

var BADGES = {
	connected: 'ok', disabled: 'off', idle: 'busy', syncing_time: 'busy', exchanging_key: 'busy',
	connecting: 'busy', backoff: 'bad', no_uplink: 'bad', error: 'bad'
};

var BADGE_TEXT = {
	connected: _('connected'), disabled: _('off'), idle: _('starting'), syncing_time: _('connecting'),
	exchanging_key: _('connecting'), connecting: _('connecting'), backoff: _('waiting'),
	no_uplink: _('no uplink'), error: _('error')
};

/* uhttpd's JSON-RPC error codes (its legacy JSON-RPC endpoint). */
var RPC_OBJECT_NOT_FOUND = -32000, RPC_ACCESS_DENIED = -32002, RPC_TIMEOUT = -32003;
/* ubus status codes that come back as `result: [code]`. */
var UBUS_NOT_FOUND = 4, UBUS_PERMISSION_DENIED = 6;

function onOff(effective) {
	return effective ? _('on') : _('off');
}

function siteDefault(mode) {
	return mode == 'on-by-default';
}

return baseclass.extend({
	/* The switch and the sentences for a `loadbalancing` block (or none). */
	loadbalancing: function(lb) {
		if (lb == null || typeof(lb) != 'object')
			return { showSwitch: false, checked: false, effective: null,
			         summary: _('Unknown: the daemon did not report it.'), reason: '' };

		var effective = (lb.effective === true), reason;

		if (lb.site_mode == 'on' || lb.site_mode == 'off')
			reason = _('Your community fixed this setting; it cannot be changed on this node.');
		else if (lb.site_mode == null)
			reason = _('Your community does not offer loadbalancing; it cannot be changed on this node.');
		else if (lb.override === true || lb.override === false)
			reason = _('You chose this. Your community\'s default is %s.').format(onOff(siteDefault(lb.site_mode)));
		else
			reason = _('This is your community\'s default. You may change it.');

		return {
			showSwitch: (lb.user_changeable === true),
			checked: effective,
			effective: effective,
			summary: effective
				? _('On: the broker assigns this node a gateway and spreads the nodes across all gateways.')
				: _('Off: this node picks one of the community\'s gateways itself.'),
			reason: reason
		};
	},

	state: function(state) {
		return STATES[state] || _('Unknown state "%s".').format(String(state));
	},

	/* Seconds since an event, in words; null means it never happened. */
	age: function(seconds) {
		var n;

		if (typeof(seconds) != 'number' || !isFinite(seconds) || seconds < 0)
			return _('never');
		if (seconds < 60)
			return N_(n = Math.floor(seconds), '%d second ago', '%d seconds ago').format(n);
		if (seconds < 3600)
			return N_(n = Math.floor(seconds / 60), '%d minute ago', '%d minutes ago').format(n);
		if (seconds < 86400)
			return N_(n = Math.floor(seconds / 3600), '%d hour ago', '%d hours ago').format(n);
		return N_(n = Math.floor(seconds / 86400), '%d day ago', '%d days ago').format(n);
	},

	/*
	 * The state at a glance: a LuCI label class and a short word. "ok" green,
	 * "busy" amber while a cycle runs, "bad" red, "off" grey.
	 */
	badge: function(state) {
		var kind = BADGES[state] || 'bad';
		return { kind: kind, text: BADGE_TEXT[state] || _('unknown') };
	},

	/*
	 * What a reconnect can do in `state` (the daemon ignores it while
	 * disabled or without an uplink, and a cycle under way finishes first):
	 * offer = show the button, hint = why not, done = the notice after it.
	 */
	reconnect: function(state) {
		if (state == 'connected')
			return { offer: true, hint: '',
			         done: _('Reconnect requested: the node drops the tunnel and connects again, possibly to another gateway.') };
		if (state == 'backoff')
			return { offer: true, hint: '',
			         done: _('Reconnect requested: the node skips the wait and tries again now.') };
		if (state == 'disabled')
			return { offer: false, hint: _('There is nothing to reconnect: the mesh VPN is switched off.'), done: '' };
		if (state == 'no_uplink')
			return { offer: false, hint: _('The node connects by itself once the internet uplink is back.'), done: '' };
		if (state == 'idle' || state == 'syncing_time' || state == 'exchanging_key' || state == 'connecting')
			return { offer: false, hint: _('A connection attempt is under way.'), done: '' };
		return { offer: false, hint: '', done: '' };
	},

	bytes: function(n) {
		var units = [ 'B', 'KiB', 'MiB', 'GiB', 'TiB' ], i = 0;

		if (typeof(n) != 'number' || !isFinite(n) || n < 0)
			return '-';
		while (n >= 1024 && i < units.length - 1) {
			n /= 1024;
			i++;
		}
		return (i == 0) ? '%d B'.format(n) : '%.1f %s'.format(n, units[i]);
	},

	gateway: function(peer) {
		if (peer == null || typeof(peer) != 'object')
			return _('none');

		var from = (peer.source == 'broker') ? _('assigned by the broker') : _('chosen from the site');
		return '%s (%s, %s)'.format(peer.name || peer.endpoint || '?', peer.endpoint || '?', from);
	},

	/*
	 * LuCI's rpc resolves a call whose ubus status is not 0 with that number
	 * and rejects on JSON-RPC errors. Both become a failure here.
	 */
	outcome: function(reply) {
		if (typeof(reply) == 'number')
			return (reply == 0) ? { ok: {} } : { failure: this.failure(reply) };
		if (reply == null || typeof(reply) != 'object')
			return { failure: this.failure(new Error(_('The daemon sent an empty reply.'))) };
		return { ok: reply };
	},

	/* A failed call in words: `cause` is a ubus status number or an Error. */
	failure: function(cause) {
		if (typeof(cause) == 'number')
			return this.ubusFailure(cause);

		var message = (cause && cause.message) ? String(cause.message) : String(cause),
		    m = /failed with error (-?\d+)/.exec(message),
		    code = m ? +m[1] : null;

		if (code == RPC_OBJECT_NOT_FOUND)
			return { kind: 'absent', text: _('The mesh VPN daemon is not running (ubus has no object mesh_vpn).') };
		if (code == RPC_ACCESS_DENIED)
			return { kind: 'denied', text: _('Access denied: this login may not do that (rpcd access group luci-app-mesh-vpn-wg).') };
		if (code == RPC_TIMEOUT)
			return { kind: 'timeout', text: _('The mesh VPN daemon did not answer in time.') };

		m = /failed with ubus code (\d+)/.exec(message);
		if (m)
			return this.ubusFailure(+m[1]);

		return { kind: 'failed', text: _('The request failed: %s').format(message) };
	},

	ubusFailure: function(status) {
		if (status == UBUS_NOT_FOUND)
			return { kind: 'absent', text: _('The mesh VPN daemon is not running (ubus has no object mesh_vpn).') };
		if (status == UBUS_PERMISSION_DENIED)
			return { kind: 'fixed', text: _('Refused: your community fixed the loadbalancing setting.') };
		return { kind: 'failed', text: _('The daemon refused the request (ubus status %d).').format(status) };
	}
});
