-- TEST STAND-IN for Gluon's `gluon.site` (not the real one): the same
-- path-object interface over a plain Lua table that a test installs with
-- `require('gluon.site').use(table)`. Indexing walks the path; calling returns
-- the value there, or the default argument when the path does not exist.

local data = {}

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

local M = {}

function M.use(site)
	data = site
end

return setmetatable(M, {
	__index = function(_, key)
		return node(data[key])
	end,
	__call = function()
		return data
	end,
})
