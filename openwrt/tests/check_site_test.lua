-- check_site.lua over fixture sites, run through the check_site stand-in.

local helpers = require 'helpers'
local check_site = require 'check_site_env'

local GW = {
	publickey = 'TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=',
	endpoint = 'gw04.ext.ffmuc.net:40011',
	link_address = 'fe80::27c:16ff:fec0:6c74',
}

local function copy(value)
	if type(value) ~= 'table' then
		return value
	end
	local out = {}
	for k, v in pairs(value) do
		out[k] = copy(v)
	end
	return out
end

-- A single-domain site; `change` edits mesh_vpn.wireguard.
local function site(change)
	local wireguard = { iface = 'wg_mesh_vpn', mtu = 1406, broker = 'broker.ffmuc.net',
		loadbalancing = 'on-by-default', peers = { copy(GW) } }
	if change then
		change(wireguard)
	end
	return { mesh_vpn = { wireguard = wireguard } }
end

local function run(site_table, domains)
	return check_site.run(helpers.package_dir .. '/check_site.lua', site_table, domains)
end

local function accepted(site_table, domains)
	local ok, problem = run(site_table, domains)
	assert(ok, 'rejected: ' .. tostring(problem))
end

local function rejected(site_table, pattern, domains)
	local ok, problem = run(site_table, domains)
	assert(not ok, 'accepted, expected an error about ' .. pattern)
	assert(problem:find(pattern, 1, true), 'error "' .. problem .. '" does not mention ' .. pattern)
end

local tests = {}

tests['a complete site passes'] = function()
	accepted(site())
	accepted(site(function(wg) wg.loadbalancing = nil end))
end

tests['peers may be left out only with loadbalancing on'] = function()
	accepted(site(function(wg) wg.loadbalancing = 'on'; wg.peers = nil end))
	accepted(site(function(wg) wg.loadbalancing = 'on'; wg.peers = {} end))
	for _, mode in ipairs({ 'off', 'on-by-default', 'off-by-default' }) do
		rejected(site(function(wg) wg.loadbalancing = mode; wg.peers = nil end), 'mesh_vpn.wireguard.peers')
		rejected(site(function(wg) wg.loadbalancing = mode; wg.peers = {} end), 'at least one peer')
	end
	rejected(site(function(wg) wg.loadbalancing = nil; wg.peers = nil end), 'mesh_vpn.wireguard.peers')
end

tests['loadbalancing must be one of the four modes'] = function()
	rejected(site(function(wg) wg.loadbalancing = 'auto' end), 'mesh_vpn.wireguard.loadbalancing')
	rejected(site(function(wg) wg.loadbalancing = true end), 'mesh_vpn.wireguard.loadbalancing')
end

tests['each peer needs a WireGuard key, an endpoint and a link address'] = function()
	rejected(site(function(wg) wg.peers[1].publickey = 'abc=' end), 'mesh_vpn.wireguard.peers.1.publickey')
	rejected(site(function(wg) wg.peers[1].endpoint = nil end), 'mesh_vpn.wireguard.peers.1.endpoint')
	rejected(site(function(wg) wg.peers[1].link_address = 7 end), 'mesh_vpn.wireguard.peers.1.link_address')
end

tests['a map of named peers (upstream format) is refused'] = function()
	rejected(site(function(wg) wg.peers = { gw04 = copy(GW) } end), 'not a map of named peers')
end

tests['iface, mtu and broker are required and checked'] = function()
	rejected(site(function(wg) wg.iface = nil end), 'mesh_vpn.wireguard.iface')
	rejected(site(function(wg) wg.iface = 'wg_mesh_vpn_far_too_long' end), 'at most 15 characters')
	rejected(site(function(wg) wg.iface = 'wg:0' end), 'mesh_vpn.wireguard.iface')
	rejected(site(function(wg) wg.mtu = nil end), 'mesh_vpn.wireguard.mtu')
	rejected(site(function(wg) wg.mtu = 576 end), 'between 1280 and 9000')
	rejected(site(function(wg) wg.broker = nil end), 'mesh_vpn.wireguard.broker')
end

tests['on a multi-domain site peers belong in the domain files'] = function()
	local base = site(function(wg) wg.peers = nil end)
	accepted(base, { muc = { mesh_vpn = { wireguard = { peers = { copy(GW) } } } } })
	rejected(site(), 'allowed in domain configuration only',
		{ muc = { mesh_vpn = { wireguard = { peers = { copy(GW) } } } } })
	rejected(base, 'mesh_vpn.wireguard.peers', { muc = { domain_seed = 'x' } })
end

return tests
