-- The site keys mesh-vpn-wg reads (domain.md 4.2), checked at build time with
-- the rules the daemon applies at run time, so a site the daemon would refuse
-- never reaches a router.

local WG = { 'mesh_vpn', 'wireguard' }

local function wg(...)
	return extend(WG, { ... })
end

local LOADBALANCING_MODES = { 'on', 'off', 'on-by-default', 'off-by-default' }
local PUBLIC_KEY = '^' .. ('[%a%d+/]'):rep(42) .. '[AEIMQUYcgkosw480]=$'
-- Linux interface names: 1 to 15 characters, no '/', ':' or blanks.
local IFACE = '^[%w%p]+$'

local function check_peer(path)
	need_string_match(extend(path, { 'publickey' }), PUBLIC_KEY)
	need_string(extend(path, { 'endpoint' }))
	need_string(extend(path, { 'link_address' }))
end

local function non_empty_array(value)
	return type(value) == 'table' and value[1] ~= nil
end

-- Upstream gluon-mesh-vpn-wireguard uses a map of named peers; this package
-- (like the one it replaces) needs a list.
local function is_list(value)
	local count = 0
	for _ in pairs(value) do
		count = count + 1
	end
	return count == #value
end

need_string_match(wg('iface'), IFACE)
need(wg('iface'), function(name)
	return #name <= 15 and not name:find('[/:]')
end, true, 'be a Linux interface name (at most 15 characters, no "/" or ":")')
need_number(wg('mtu'))
need(wg('mtu'), function(mtu)
	return mtu >= 1280 and mtu <= 9000
end, true, 'be between 1280 and 9000')
need_string(wg('broker'))

local loadbalancing = need_one_of(wg('loadbalancing'), LOADBALANCING_MODES, false)

-- With loadbalancing 'on' the broker names the gateway, so peers are optional.
local peers_required = loadbalancing ~= 'on'
need_array(in_domain(wg('peers')), check_peer, peers_required)
need(wg('peers'), is_list, false, 'be a list of {publickey, endpoint, link_address}, not a map of named peers')
if peers_required then
	need(wg('peers'), non_empty_array, true, 'list at least one peer (or set loadbalancing to "on")')
end
