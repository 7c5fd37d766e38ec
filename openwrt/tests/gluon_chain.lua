-- A model of what gluon-reconfigure does to the mesh VPN's UCI after our
-- upgrade script: it runs every /lib/gluon/upgrade/* in name order, each in
-- its own Lua process, and 998-commit commits at the end. Modelled here, from
-- GLUON package/gluon-mesh-vpn-core/luasrc/lib/gluon/upgrade/500-mesh-vpn and
-- .../lib/gluon/mesh-vpn/update-config, is only what touches gluon.mesh_vpn,
-- wireguard and simple-tc (network and firewall sections are left out).
-- update-config asks gluon.mesh-vpn for the active provider; ours is the
-- only one installed, so the model takes it directly.

local M = {}

local PER_PROCESS = { 'simple-uci', 'gluon.site', 'gluon.mesh-vpn.provider.wireguard' }

-- A new process: no module state survives from the previous script.
local function new_process()
	for _, module in ipairs(PER_PROCESS) do
		package.loaded[module] = nil
	end
end

-- 500-mesh-vpn, "Inital VPN setup": only when gluon.mesh_vpn is missing.
function M.core_500_mesh_vpn()
	local site = require 'gluon.site'
	local uci = require('simple-uci').cursor()
	if not uci:get('gluon', 'mesh_vpn') then
		uci:section('gluon', 'mesh_vpn', 'mesh_vpn', {
			enabled = site.mesh_vpn.enabled(false),
			limit_enabled = site.mesh_vpn.bandwidth_limit.enabled(false),
			limit_ingress = site.mesh_vpn.bandwidth_limit.ingress(),
			limit_egress = site.mesh_vpn.bandwidth_limit.egress(),
		})
		uci:save('gluon')
	end
end

-- update-config: the provider is told the gluon values.
function M.update_config()
	local uci = require('simple-uci').cursor()
	local vpn = require 'gluon.mesh-vpn.provider.wireguard'
	assert(vpn.active(), 'the wireguard provider is not active for this site')
	local enabled = uci:get_bool('gluon', 'mesh_vpn', 'enabled')
	local limit_enabled = uci:get_bool('gluon', 'mesh_vpn', 'limit_enabled')
	local ingress = uci:get('gluon', 'mesh_vpn', 'limit_ingress')
	local egress = uci:get('gluon', 'mesh_vpn', 'limit_egress')
	uci:set('fastd', 'mesh_vpn', 'enabled', false)
	uci:save('fastd')
	vpn.enable(enabled)
	if limit_enabled then
		vpn.set_limit(ingress, egress)
	else
		vpn.set_limit(nil, nil)
	end
end

-- Our 400 script, then core's 500 and update-config. The stand-in's save()
-- already writes the files, which is what 998-commit would do.
function M.reconfigure(upgrade_script)
	new_process()
	dofile(upgrade_script)
	new_process()
	M.core_500_mesh_vpn()
	new_process()
	M.update_config()
	new_process()
end

return M
