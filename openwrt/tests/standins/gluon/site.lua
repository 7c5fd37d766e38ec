-- TEST STAND-IN for Gluon's `gluon.site` (not the real one, a C module over
-- site.json merged with the domain: gluon-core/src/site.c). The same
-- path-object interface over the table in standin_state.site: indexing walks
-- the path and never fails, calling returns the value there or the default.
-- The module itself has no names of its own, like the real one: every key is
-- a site key.

local state = require 'standin_state'

local function node(value)
	return setmetatable({}, {
		__index = function(_, key)
			if type(value) == 'table' then
				return node(value[key])
			end
			return node(nil)
		end,
		__call = function(_, default)
			if value == nil then
				return default
			end
			return value
		end,
	})
end

return setmetatable({}, {
	__index = function(_, key)
		return node(state.site[key])
	end,
	__call = function()
		return state.site
	end,
})
