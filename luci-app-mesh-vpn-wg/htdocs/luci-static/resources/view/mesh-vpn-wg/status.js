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
 */

var callStatus = rpc.declare({ object: 'mesh_vpn', method: 'status' });
var callReconnect = rpc.declare({ object: 'mesh_vpn', method: 'reconnect' });
var callSetLoadbalancing = rpc.declare({
	object: 'mesh_vpn',
	method: 'set_loadbalancing',
	params: [ 'enabled' ]
});

var POLL_SECONDS = 5;

function settle(promise) {
	return promise.then(function(reply) {
		return present.outcome(reply);
	}, function(err) {
		return { failure: present.failure(err) };
	});
}

function row(label, value, id) {
	return E('tr', { 'class': 'tr' }, [
		E('td', { 'class': 'td left', 'width': '33%' }, label),
		E('td', { 'class': 'td left', 'id': id }, value)
	]);
}

/* A failure from present.failure(); a stopped daemon is a notice, not an error. */
function message(failure) {
	return E('div', {
		'class': 'alert-message ' + (failure.kind == 'absent' ? 'notice' : 'error'),
		'data-failure': failure.kind
	}, failure.text);
}

return view.extend({
	load: function() {
		return settle(callStatus());
	},

	render: function(result) {
		this.body = E('div', { 'id': 'mesh-vpn-wg' });
		this.update(result);
		poll.add(L.bind(function() {
			return settle(callStatus()).then(L.bind(this.update, this));
		}, this), POLL_SECONDS);

		return E([], [
			E('h2', {}, _('Mesh VPN')),
			E('div', { 'class': 'cbi-map-descr' },
				_('The WireGuard mesh VPN connects this node to the community\'s gateways.')),
			this.body
		]);
	},

	update: function(result) {
		this.body.setAttribute('data-state', result.failure ? 'failure' : String(result.ok.state));
		dom.content(this.body, result.failure ? [ message(result.failure) ] : this.renderStatus(result.ok));
	},

	renderStatus: function(status) {
		var peer = status.peer, lb = present.loadbalancing(status.loadbalancing);

		return [
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, _('Connection')),
				E('table', { 'class': 'table' }, [
					row(_('State'), present.state(status.state), 'mesh-vpn-wg-state'),
					row(_('Gateway'), present.gateway(peer), 'mesh-vpn-wg-gateway'),
					row(_('Last handshake'), present.age(peer ? peer.latest_handshake : null), 'mesh-vpn-wg-handshake'),
					row(_('Traffic'), peer
						? _('%s received, %s sent').format(present.bytes(peer.rx_bytes), present.bytes(peer.tx_bytes))
						: '-', 'mesh-vpn-wg-traffic'),
					row(_('Last error'), status.last_error || _('none'), 'mesh-vpn-wg-error')
				]),
				E('button', {
					'class': 'cbi-button cbi-button-action',
					'id': 'mesh-vpn-wg-reconnect',
					'click': ui.createHandlerFn(this, 'handleReconnect')
				}, _('Reconnect now'))
			]),
			this.renderLoadbalancing(lb)
		];
	},

	renderLoadbalancing: function(lb) {
		var children = [
			E('h3', {}, _('Loadbalancing')),
			E('p', { 'id': 'mesh-vpn-wg-lb-summary' }, lb.summary),
			E('p', { 'id': 'mesh-vpn-wg-lb-reason' }, lb.reason)
		];

		if (lb.showSwitch)
			children.push(E('label', {}, [
				E('input', {
					'type': 'checkbox',
					'id': 'mesh-vpn-wg-lb-switch',
					'checked': lb.checked ? 'checked' : null,
					'change': L.bind(this.handleLoadbalancing, this)
				}),
				' ', _('Let the broker assign the gateway (loadbalancing)')
			]));

		return E('div', { 'class': 'cbi-section', 'id': 'mesh-vpn-wg-lb' }, children);
	},

	handleLoadbalancing: function(ev) {
		var wanted = ev.target.checked;

		ev.target.disabled = true;
		return settle(callSetLoadbalancing(wanted)).then(L.bind(function(result) {
			if (result.failure)
				ui.addNotification(null, message(result.failure));
			return settle(callStatus()).then(L.bind(this.update, this));
		}, this));
	},

	handleReconnect: function() {
		return settle(callReconnect()).then(function(result) {
			if (result.failure)
				ui.addNotification(null, message(result.failure));
			else
				ui.addNotification(null, E('p', { 'data-reconnect': 'accepted' },
					_('Reconnect requested: the mesh VPN reconnects now.')), 'info');
		});
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
