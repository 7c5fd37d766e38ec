'use strict';
'require view';
'require rpc';
'require poll';
'require ui';
'require dom';
'require mesh-vpn-wg.present as present';

/*
 * Mesh VPN status and the loadbalancing switch. Everything comes from the
 * daemon's ubus object `mesh_vpn`; no `reject` and no `expect`, so a ubus
 * status (e.g. 6 when the site fixes the mode) arrives as a number that
 * present.outcome() turns into words.
 *
 * The page is built once and each poll only changes the values that changed,
 * so keyboard focus and screen readers are not disturbed. A read-only login
 * (L.hasViewPermission() not true) sees the state but no control it could
 * not use.
 */

var callStatus = rpc.declare({ object: 'mesh_vpn', method: 'status' });
var callReconnect = rpc.declare({ object: 'mesh_vpn', method: 'reconnect' });
var callSetLoadbalancing = rpc.declare({
	object: 'mesh_vpn',
	method: 'set_loadbalancing',
	params: [ 'enabled' ]
});

var POLL_SECONDS = 5;

/* LuCI's label classes for the badge kinds of present.badge(). */
var LABELS = { ok: 'label success', busy: 'label warning', bad: 'label danger', off: 'label' };

function settle(promise) {
	return promise.then(function(reply) {
		return present.outcome(reply);
	}, function(err) {
		return { failure: present.failure(err) };
	});
}

/* One banner with a severity; a stopped daemon is a warning, not an error. */
function notify(failure) {
	ui.addNotification(null, E('p', { 'data-failure': failure.kind }, failure.text),
		failure.kind == 'absent' ? 'warning' : 'danger');
}

/* Replaces a node's text only when it changed. */
function setText(node, text) {
	if (node.textContent !== text)
		dom.content(node, text);
}

function row(label, cell) {
	return E('tr', { 'class': 'tr' }, [ E('td', { 'class': 'td left', 'width': '33%' }, label), cell ]);
}

return view.extend({
	load: function() {
		return settle(callStatus());
	},

	render: function(result) {
		this.canWrite = (L.hasViewPermission() === true);
		this.polls = 0;
		this.body = E('div', { 'id': 'mesh-vpn-wg', 'data-polls': '0' });
		this.update(result);
		poll.add(L.bind(function() {
			return settle(callStatus()).then(L.bind(this.update, this));
		}, this), POLL_SECONDS);

		return E([], [
			E('h2', {}, _('Mesh VPN')),
			E('div', { 'class': 'cbi-map-descr' },
				_('The WireGuard mesh VPN connects this node to the community\'s gateways.')),
			this.canWrite ? '' : E('p', { 'id': 'mesh-vpn-wg-readonly' },
				_('You have read-only access: you can see the state but not change it.')),
			this.body
		]);
	},

	update: function(result) {
		this.body.setAttribute('data-polls', String(this.polls++));
		this.body.setAttribute('data-state', result.failure ? 'failure' : String(result.ok.state));
		if (result.failure) {
			this.nodes = null;
			dom.content(this.body, E('div', {
				'class': 'alert-message ' + (result.failure.kind == 'absent' ? 'warning' : 'error'),
				'data-failure': result.failure.kind
			}, result.failure.text));
			return;
		}
		var showSwitch = present.loadbalancing(result.ok.loadbalancing).showSwitch;
		if (!this.nodes || this.nodes.showSwitch !== showSwitch)
			dom.content(this.body, this.build(showSwitch));
		this.fill(result.ok);
	},

	/* The page's nodes, once (again only if the switch comes or goes); fill() puts the values in. */
	build: function(showSwitch) {
		var n = this.nodes = { showSwitch: showSwitch };
		var cell = function(id) { return (n[id] = E('td', { 'class': 'td left', 'id': 'mesh-vpn-wg-' + id })); };

		n.badge = E('span', { 'id': 'mesh-vpn-wg-badge' });
		n.reconnectHint = E('span', { 'id': 'mesh-vpn-wg-reconnect-hint' });
		n.reconnect = this.canWrite ? E('button', {
			'class': 'cbi-button cbi-button-action',
			'id': 'mesh-vpn-wg-reconnect',
			'click': ui.createHandlerFn(this, 'handleReconnect')
		}, _('Reconnect now')) : '';
		n.lbSummary = E('p', { 'id': 'mesh-vpn-wg-lb-summary' });
		n.lbReason = E('p', { 'id': 'mesh-vpn-wg-lb-reason' });
		n.lbSwitch = showSwitch ? E('input', {
			'type': 'checkbox',
			'id': 'mesh-vpn-wg-lb-switch',
			'disabled': this.canWrite ? null : 'disabled',
			'change': L.bind(this.handleLoadbalancing, this)
		}) : null;
		n.lbLabel = showSwitch ? E('label', {}, [ n.lbSwitch, ' ', _('Let the broker assign the gateway (loadbalancing)') ]) : '';

		return [
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Connection'), ' ', n.badge ]),
				E('table', { 'class': 'table' }, [
					row(_('State'), cell('state')),
					row(_('Gateway'), cell('gateway')),
					row(_('Last handshake'), cell('handshake')),
					row(_('Traffic'), cell('traffic')),
					row(_('Last error'), cell('error'))
				]),
				E('p', {}, [ n.reconnect, ' ', n.reconnectHint ])
			]),
			E('div', { 'class': 'cbi-section', 'id': 'mesh-vpn-wg-lb' }, [
				E('h3', {}, _('Loadbalancing')), n.lbSummary, n.lbReason, n.lbLabel
			])
		];
	},

	fill: function(status) {
		var n = this.nodes, peer = status.peer, badge = present.badge(status.state),
		    lb = present.loadbalancing(status.loadbalancing), reconnect = present.reconnect(status.state);

		n.badge.className = LABELS[badge.kind];
		n.badge.setAttribute('data-kind', badge.kind);
		setText(n.badge, badge.text);
		setText(n.state, present.state(status.state));
		setText(n.gateway, present.gateway(peer));
		setText(n.handshake, present.age(peer ? peer.latest_handshake : null));
		setText(n.traffic, peer
			? _('%s received, %s sent').format(present.bytes(peer.rx_bytes), present.bytes(peer.tx_bytes)) : '-');
		setText(n.error, status.last_error || _('none'));
		if (n.reconnect)
			n.reconnect.style.display = reconnect.offer ? '' : 'none';
		setText(n.reconnectHint, reconnect.hint);
		this.reconnectDone = reconnect.done;

		setText(n.lbSummary, lb.summary);
		setText(n.lbReason, lb.reason);
		if (n.lbSwitch && !this.switching)
			n.lbSwitch.checked = lb.checked;
	},

	handleLoadbalancing: function(ev) {
		var target = ev.target;

		if (!this.canWrite)
			return;
		this.switching = true;
		target.disabled = true;
		return settle(callSetLoadbalancing(target.checked)).then(L.bind(function(result) {
			if (result.failure)
				notify(result.failure);
			return settle(callStatus());
		}, this)).then(L.bind(function(result) {
			this.switching = false;
			target.disabled = false;
			this.update(result);
		}, this));
	},

	handleReconnect: function() {
		var done = this.reconnectDone;

		return settle(callReconnect()).then(function(result) {
			if (result.failure)
				notify(result.failure);
			else
				ui.addNotification(null, E('p', { 'data-reconnect': 'accepted' }, done), 'info');
		});
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
