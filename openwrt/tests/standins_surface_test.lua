-- Every stand-in offers only names the real component has (tests/api/):
-- a function a stand-in invents would let a page pass here and crash on a
-- router.

local helpers = require 'helpers'
local allowed = require 'api_names'

local function names_of(tbl, skip_meta)
	local out = {}
	for key in pairs(tbl) do
		if not (skip_meta and tostring(key):match('^__')) and type(key) == 'string' then
			out[#out + 1] = key
		end
	end
	table.sort(out)
	return out
end

-- The names of `tbl` that `surface` does not allow.
local function invented(surface, tbl, skip_meta)
	local out = {}
	for _, name in ipairs(names_of(tbl, skip_meta)) do
		if not allowed[surface][name] then
			out[#out + 1] = name
		end
	end
	return out
end

local function check(surface, tbl, skip_meta)
	local extra = invented(surface, tbl, skip_meta)
	assert(#extra == 0, surface .. ' stand-in offers names the real one lacks: ' .. table.concat(extra, ', '))
end

local function fresh(module)
	package.loaded[module] = nil
	return require(module)
end

local tests = {}

tests['the check fails on an invented name'] = function()
	local extra = invented('gluon.util', { trim = true, in_setup_mode = true })
	helpers.equal(table.concat(extra, ','), 'in_setup_mode', 'invented names')
end

tests['gluon.site, gluon.mesh-vpn and jsonc stand-ins'] = function()
	check('gluon.site', fresh('gluon.site'))
	check('gluon.mesh-vpn', fresh('gluon.mesh-vpn'))
	check('jsonc', fresh('jsonc'))
end

tests['simple-uci stand-in: module and cursor'] = function()
	local uci = fresh('simple-uci')
	check('simple-uci', uci)
	check('uci cursor', getmetatable(uci.cursor()).__index, true)
end

tests['ubus stand-in: binding and connection'] = function()
	local state = require 'standin_state'
	local ubus = fresh('ubus')
	check('ubus', ubus)
	state.ubus_reply = {}
	check('ubus connection', ubus.connect())
	state.ubus_reply = nil
end

tests['gluon-web classes stand-in and the environments the page harness builds'] = function()
	check('gluon.web.model.classes', fresh('gluon.web.model.classes'))
	local web = require 'gluon_web'
	check('gluon.web i18n object', web.i18n({}, {}))
	check('gluon.web controller env', web.controller_env({}))
end

tests['check_site stand-in environment'] = function()
	local dir = helpers.tempdir()
	helpers.write(dir .. '/check.lua', 'local n = {} for k in pairs(getfenv(1)) do n[#n + 1] = k end '
		.. "error(table.concat(n, ' '), 0)")
	local ok, names = require('check_site_env').run(dir .. '/check.lua', {})
	assert(not ok, 'the probe did not run')
	local env = {}
	for name in names:gmatch('%S+') do env[name] = true end
	check('check_site env', env)
end

return tests
