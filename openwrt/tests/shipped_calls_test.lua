-- The Lua the packages ship calls into Gluon's modules only by names those
-- modules have (tests/api/). A static scan: `local x = require 'module'`
-- (and `require('simple-uci').cursor()`, a `uci` parameter, `x.connect()` of
-- ubus) binds x to a surface; every `x.name` / `x:name` must be in its list.

local helpers = require 'helpers'
local allowed = require 'api_names'

local OPENWRT = helpers.tests_dir .. '/..'

-- Gluon modules a package may require; our own modules are not checked.
local SURFACE_OF = {
	['gluon.util'] = 'gluon.util', ['gluon.mesh-vpn'] = 'gluon.mesh-vpn',
	['gluon.setup-mode'] = 'gluon.setup-mode', ['jsonc'] = 'jsonc', ['ubus'] = 'ubus',
	['simple-uci'] = 'simple-uci', ['gluon.site'] = 'gluon.site',
}
local OWN = { '^gluon%.mesh%-vpn%-wg%.', '^gluon%.mesh%-vpn%.provider%.wireguard$' }

local function own(module)
	for _, pattern in ipairs(OWN) do
		if module:match(pattern) then return true end
	end
	return false
end

-- Problems in one file's text, as "file: x.name (surface)" strings.
local function scan(text, file)
	local bound, problems = { uci = 'uci cursor' }, {}
	for var, module in text:gmatch("local%s+([%w_]+)%s*=%s*require%s*%(?%s*['\"]([^'\"]+)['\"]%s*%)?") do
		if module:match('^gluon') and not own(module) and not SURFACE_OF[module] then
			problems[#problems + 1] = file .. ': requires ' .. module .. ', which is not in the list'
		end
		bound[var] = SURFACE_OF[module]
	end
	for var in text:gmatch("local%s+([%w_]+)%s*=%s*require%s*%(%s*['\"]simple%-uci['\"]%s*%)%.cursor%(%)") do
		bound[var] = 'uci cursor'
	end
	for var, ubus in text:gmatch('local%s+([%w_]+)%s*=%s*([%w_]+)%.connect%(') do
		if bound[ubus] == 'ubus' then bound[var] = 'ubus connection' end
	end
	for var, name in text:gmatch('([%w_]+)[%.:]([%a_][%w_]*)') do
		local surface = bound[var]
		-- gluon.site is a path object: any key is a site key.
		if surface and surface ~= 'gluon.site' and not allowed[surface][name] then
			problems[#problems + 1] = string.format('%s: %s.%s (%s)', file, var, name, surface)
		end
	end
	return problems
end

local function shipped_lua()
	local listing = helpers.capture('cd ' .. helpers.shell_quote(OPENWRT)
		.. ' && find . -path "*/luasrc/*" -type f | sort')
	local files = {}
	for path in listing:gmatch('[^\n]+') do
		local text = helpers.read(OPENWRT .. '/' .. path)
		if path:match('%.lua$') or text:match('^#!%S*lua') then
			files[#files + 1] = { path = path, text = text }
		end
	end
	return files
end

local tests = {}

tests['the scan finds an invented call'] = function()
	local bad = "local util = require 'gluon.util'\nif util.in_setup_mode() then end\n"
		.. "local uci = require('simple-uci').cursor()\nuci:reconfigure('x')\n"
		.. "function x(form, uci) uci:get('a') end\nlocal w = require 'gluon.web.util'\n"
	local problems = table.concat(scan(bad, 'example'), '\n')
	assert(problems:find('util.in_setup_mode', 1, true), 'missed util.in_setup_mode:\n' .. problems)
	assert(problems:find('uci.reconfigure', 1, true), 'missed uci:reconfigure:\n' .. problems)
	assert(problems:find('gluon.web.util', 1, true), 'missed an unknown module:\n' .. problems)
	assert(not problems:find('uci.get', 1, true), 'flagged uci:get:\n' .. problems)
end

tests['shipped Lua calls only names Gluon has'] = function()
	local files, problems = shipped_lua(), {}
	assert(#files >= 5, 'found only ' .. #files .. ' shipped Lua files')
	for _, file in ipairs(files) do
		for _, problem in ipairs(scan(file.text, file.path)) do
			problems[#problems + 1] = problem
		end
	end
	assert(#problems == 0, 'calls outside the list:\n  ' .. table.concat(problems, '\n  '))
end

return tests
