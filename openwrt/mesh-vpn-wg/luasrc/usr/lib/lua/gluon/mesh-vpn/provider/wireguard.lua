-- Gluon mesh-vpn provider for mesh-vpn-wg: the interface of the provider it
-- replaces (ffmuc-mesh-vpn-wireguard-vxlan), used by gluon-mesh-vpn-core,
-- config mode and respondd.

local uci = require('simple-uci').cursor()

local json = require 'jsonc'
local site = require 'gluon.site'
local vpn_core = require 'gluon.mesh-vpn'

local M = {}

-- `explain --json` derives the public key from the UCI private key with the
-- daemon's own code: it works while the tunnel is down (the old helper read
-- the live interface) and needs no wireguard-tools on the node.
M.explain_command = 'exec /usr/bin/mesh-vpn-wg explain --json 2>/dev/null'

local function read_command(command)
	local pipe = io.popen(command)
	if not pipe then
		return nil
	end
	local output = pipe:read('*a')
	pipe:close()
	return output
end

local function is_public_key(value)
	return type(value) == 'string'
		and value:match('^' .. ('[%a%d+/]'):rep(42) .. '[AEIMQUYcgkosw480]=$') ~= nil
end

-- nil when there is no key yet (the daemon generates one) or explain fails.
function M.public_key()
	local output = read_command(M.explain_command)
	if not output or output == '' then
		return nil
	end
	local ok, explanation = pcall(json.parse, output)
	if not ok or type(explanation) ~= 'table' then
		return nil
	end
	local key = explanation.public_key
	if not is_public_key(key) then
		return nil
	end
	return key
end

function M.enable(val)
	uci:set('wireguard', 'mesh_vpn', 'enabled', val)
	uci:save('wireguard')
end

function M.active()
	return site.mesh_vpn.wireguard() ~= nil
end

-- simple-tc's hotplug applies this on every add of mesh-vpn, so the limit
-- survives the daemon recreating the device.
function M.set_limit(ingress_limit, egress_limit)
	uci:delete('simple-tc', 'mesh_vpn')
	if ingress_limit ~= nil and egress_limit ~= nil then
		uci:section('simple-tc', 'interface', 'mesh_vpn', {
			ifname = vpn_core.get_interface(),
			enabled = true,
			limit_egress = egress_limit,
			limit_ingress = ingress_limit,
		})
	end
	uci:save('simple-tc')
end

function M.mtu()
	return site.mesh_vpn.wireguard.mtu()
end

-- The key is sent to the broker anyway; hiding it protects nothing.
function M.pubkey_privacy()
	return false
end

return M
