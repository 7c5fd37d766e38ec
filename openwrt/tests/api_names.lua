-- The names real Gluon modules have: tests/api/gluon-lua-api.json (a copy
-- of the project's reference list) plus tests/api/local-names.json (names
-- read from Gluon's sources, each with its source). Used by the tests that
-- keep stand-ins and shipped Lua from inventing functions.
local cjson = require 'cjson'

local here = debug.getinfo(1, 'S').source:match('^@(.*)/[^/]*$') or '.'

local function read_json(name)
	local file = assert(io.open(here .. '/api/' .. name), 'missing tests/api/' .. name)
	local value = cjson.decode(file:read('*a'))
	file:close()
	return value
end

local reference, extra = read_json('gluon-lua-api.json'), read_json('local-names.json')

local function set(...)
	local out = {}
	for _, list in ipairs({ ... }) do
		for _, name in ipairs(list) do
			out[name] = true
		end
	end
	return out
end

local function ref(key)
	return (assert(reference[key], 'gluon-lua-api.json has no list ' .. key))
end

local function local_names(key)
	return (assert(extra[key], 'local-names.json has no list ' .. key).names)
end

-- Surface name -> set of names allowed there.
return {
	['gluon.util'] = set(ref('gluon.util')),
	['gluon.site'] = set(),
	['gluon.mesh-vpn'] = set(ref('gluon.mesh-vpn')),
	['gluon.setup-mode'] = set(ref('gluon.setup-mode')),
	['jsonc'] = set(ref('jsonc')),
	['ubus'] = set(ref('ubus binding')),
	['ubus connection'] = set(ref('ubus connection')),
	['simple-uci'] = set(local_names('simple-uci module')),
	['uci cursor'] = set(ref('simple-uci cursor (extra methods over the uci binding)'),
		ref('uci binding cursor (commonly used)')),
	['gluon.web.model.classes'] = set(ref('gluon.web.model classes')),
	['gluon.web i18n object'] = set(ref('gluon.web i18n object')),
	['gluon.web model env'] = set(ref('gluon.web.model classes'), local_names('gluon.web model env')),
	['gluon.web controller env'] = set(ref('gluon.web controller env')),
	['check_site env'] = set(local_names('check_site env')),
}
