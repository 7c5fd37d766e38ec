-- TEST STAND-IN for the `ubus` Lua binding (libubus-lua; not the real one):
-- connect() and a connection's call() and close(), names from
-- tests/api/gluon-lua-api.json. It answers `mesh_vpn status` with
-- standin_state.ubus_reply: nil = no ubusd to connect to, a number = that
-- ubus status (call returns nil, status as the binding does), a table = the
-- daemon's reply.
local state = require 'standin_state'

local NOT_FOUND = 4

local function call(_, object, method)
	local reply = state.ubus_reply
	if object ~= 'mesh_vpn' or method ~= 'status' then
		return nil, NOT_FOUND
	end
	if type(reply) == 'number' then
		return nil, reply
	end
	return reply
end

return {
	connect = function()
		if state.ubus_reply == nil then
			return nil
		end
		return { call = call, close = function() end }
	end,
}
