-- Loadbalancing toggle in the style of gluon-web-mesh-vpn-fastd. It writes
-- the UCI override directly: in setup mode the daemon is not running, so
-- there is no `mesh_vpn` object to ask. Live status is shown only when the
-- daemon answers on ubus.

local uci = require('simple-uci').cursor()
local site = require 'gluon.site'
local util = require 'gluon.util'
local loadbalancing = require 'gluon.mesh-vpn-wg.loadbalancing'

local site_mode = site.mesh_vpn.wireguard.loadbalancing()

local function daemon_status()
	local ok, ubus = pcall(require, 'ubus')
	if not ok then
		return nil
	end
	local conn = ubus.connect()
	if not conn then
		return nil
	end
	local reply = conn:call('mesh_vpn', 'status', {})
	conn:close()
	return reply
end

local f = Form(translate('Mesh VPN loadbalancing'))

if not util.in_setup_mode() then
	f.submit = translate('Save & apply')
end

if not loadbalancing.changeable(site_mode) then
	f:section(Section, nil, translate('Your community fixed this setting; it cannot be changed on this node.'))
	return f
end

local s = f:section(Section, nil, translate(
	'With loadbalancing, the broker assigns this node a gateway and spreads the nodes '
	.. 'across all gateways. Without it, this node picks one of the community\'s gateways itself.'
))

local live = loadbalancing.status_line(daemon_status(), translate)
if live then
	f:section(Section, translate('Current state'), live)
end

local o = s:option(Flag, 'loadbalancing', translate('Let the broker assign the gateway (loadbalancing)'))
local current = uci:get('wireguard', 'mesh_vpn', 'loadbalancing')
o.default = loadbalancing.effective(site_mode, loadbalancing.parse_override(current))

function o:write(data)
	local value = loadbalancing.uci_value_to_write(site_mode, current, data)
	if value == nil then
		return
	end
	uci:set('wireguard', 'mesh_vpn', 'loadbalancing', value)
	uci:save('wireguard')
	uci:commit('wireguard')

	if not util.in_setup_mode() then
		util.reconfigure_asynchronously()
	end
end

return f
