-- Advanced settings page: the loadbalancing choice, in the style of
-- gluon-web-mesh-vpn-fastd. It only sets, saves and commits UCI: config mode
-- runs in setup mode, where the daemon does not run; the choice takes effect
-- when the node leaves setup mode. A live line is shown should the daemon
-- answer on ubus after all.

local uci = require('simple-uci').cursor()
local site = require 'gluon.site'
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

-- The controller offers no menu entry then; this covers a direct request.
if not loadbalancing.changeable(site_mode) then
	f.submit = false
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

local current = uci:get('wireguard', 'mesh_vpn', 'loadbalancing')
local o = s:option(Flag, 'loadbalancing', translate('Let the broker assign the gateway (loadbalancing)'))
o.default = loadbalancing.effective(site_mode, loadbalancing.parse_override(current))

function o:write(data)
	if loadbalancing.set(uci, site_mode, current, data) then
		uci:commit('wireguard')
	end
end

return f
