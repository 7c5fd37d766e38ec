-- TEST STAND-IN for OpenWrt's `jsonc` Lua binding (lua-jsonc), built on
-- Debian's lua-cjson: parse() returns nil for invalid JSON and maps JSON null
-- to nil, as the real binding does.
local cjson = require 'cjson'

local function strip_nulls(value)
	if value == cjson.null then
		return nil
	end
	if type(value) == 'table' then
		for key, item in pairs(value) do
			value[key] = strip_nulls(item)
		end
	end
	return value
end

return {
	parse = function(text)
		local ok, value = pcall(cjson.decode, text)
		if not ok then
			return nil
		end
		return strip_nulls(value)
	end,
}
