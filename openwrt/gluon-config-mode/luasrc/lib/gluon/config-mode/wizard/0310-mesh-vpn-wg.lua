-- Wizard step: the loadbalancing choice, right after gluon-config-mode-mesh-
-- vpn's "Use internet connection (mesh VPN)" (0300-mesh-vpn). Shown only where
-- the site lets the owner choose. It can depend only on options of its own
-- section, so it reads gluon.mesh_vpn.enabled itself and says when the choice
-- applies. It sets and saves UCI; the wizard's save runs gluon-reconfigure
-- and reboots.

local site = require 'gluon.site'
local loadbalancing = require 'gluon.mesh-vpn-wg.loadbalancing'

return function(form, uci)
	local site_mode = site.mesh_vpn.wireguard.loadbalancing()
	if not loadbalancing.changeable(site_mode) then
		return
	end

	-- The wizard's own translate() is gluon-config-mode-core's catalogue.
	local pkg_i18n = i18n 'gluon-web-mesh-vpn-wg'
	local when = pkg_i18n.translate('This applies while "Use internet connection (mesh VPN)" is on.')
	if not uci:get_bool('gluon', 'mesh_vpn', 'enabled') then
		when = pkg_i18n.translate('The mesh VPN is off at the moment; this applies once '
			.. '"Use internet connection (mesh VPN)" is on.')
	end
	local s = form:section(Section, nil, pkg_i18n.translate(
		'With loadbalancing, the broker assigns this node a gateway and spreads the nodes '
		.. 'across all gateways. Without it, this node picks one of the community\'s gateways itself.'
	) .. ' ' .. when)

	local current = uci:get('wireguard', 'mesh_vpn', 'loadbalancing')
	local o = s:option(Flag, 'mesh_vpn_wg_loadbalancing',
		pkg_i18n.translate('Let the broker assign the gateway (loadbalancing)'))
	o.default = loadbalancing.effective(site_mode, loadbalancing.parse_override(current))

	function o:write(data)
		loadbalancing.set(uci, site_mode, current, data)
	end
end
