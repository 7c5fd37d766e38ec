-- Decisions of the config-mode loadbalancing page, free of UCI, ubus and
-- gluon-web so that lua5.1 can test them. The table is domain.md 4.6 as the
-- daemon implements it: 'on' and 'off' fix the choice, a site without the
-- key means off (fixed), and only the two *-by-default modes let the node
-- owner override it in wireguard.mesh_vpn.loadbalancing ('1' or '0').

local M = {}

-- Whether the owner may choose; the page is hidden otherwise.
function M.changeable(site_mode)
	return site_mode == 'on-by-default' or site_mode == 'off-by-default'
end

-- Only the exact strings '1' and '0' are an override, as for the daemon.
function M.parse_override(uci_value)
	if uci_value == '1' then
		return true
	elseif uci_value == '0' then
		return false
	end
	return nil
end

function M.effective(site_mode, override)
	if site_mode == 'on' then
		return true
	end
	if not M.changeable(site_mode) then
		return false
	end
	if override ~= nil then
		return override
	end
	return site_mode == 'on-by-default'
end

-- What to store when the owner submits `wanted`: '1', '0', or nil for
-- "write nothing". Without an override, choosing the site default writes
-- nothing, so the node keeps following the community's default.
function M.uci_value_to_write(site_mode, current_uci_value, wanted)
	if not M.changeable(site_mode) then
		return nil
	end
	local override = M.parse_override(current_uci_value)
	if override == nil and wanted == (site_mode == 'on-by-default') then
		return nil
	end
	return wanted and '1' or '0'
end

-- Sets and saves the owner's choice `wanted` on a simple-uci cursor; true
-- when something was written. The section is made if it is missing (a
-- node whose upgrade script has not run yet).
function M.set(uci, site_mode, current_uci_value, wanted)
	local value = M.uci_value_to_write(site_mode, current_uci_value, wanted)
	if value == nil then
		return false
	end
	uci:section('wireguard', 'wireguard', 'mesh_vpn', { loadbalancing = value })
	uci:save('wireguard')
	return true
end

-- One line about the running daemon, or nil when it did not answer
-- (config mode runs in setup mode, where the daemon usually is not running).
function M.status_line(reply, translate)
	if type(reply) ~= 'table' or type(reply.state) ~= 'string' then
		return nil
	end
	local line = translate('Mesh VPN state: %s'):format(reply.state)
	local peer = reply.peer
	if type(peer) == 'table' and type(peer.name) == 'string' then
		line = line .. ', ' .. translate('gateway %s'):format(peer.name)
	end
	return line
end

return M
