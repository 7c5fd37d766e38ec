-- Runs Lua unit tests: lua5.1 openwrt/tests/run.lua <file>_test.lua ...
-- Each test file returns a table of name -> function. Modules the package
-- needs from Gluon come from standins/ (labelled test stand-ins).

local here = arg[0]:match('^(.*)/[^/]*$') or '.'
local package_dir = here .. '/../mesh-vpn-wg'
package.path = table.concat({
	here .. '/?.lua',
	here .. '/standins/?.lua',
	package_dir .. '/luasrc/usr/lib/lua/?.lua',
	package.path,
}, ';')

local helpers = require 'helpers'
helpers.package_dir = package_dir
helpers.tests_dir = here

-- Modules with state are loaded afresh for every test.
local FRESH = { 'standin_state', 'gluon.site', 'simple-uci', 'gluon.mesh-vpn.provider.wireguard' }

local counts = { passed = 0, failed = 0, skipped = 0 }

local function run_test(file, name, test)
	for _, module in ipairs(FRESH) do
		package.loaded[module] = nil
	end
	local ok, problem = pcall(test)
	helpers.cleanup()
	if ok then
		counts.passed = counts.passed + 1
		print('ok    ' .. file .. ': ' .. name)
	elseif type(problem) == 'table' and problem.skip then
		counts.skipped = counts.skipped + 1
		io.stderr:write('SKIP: ' .. file .. ': ' .. name .. ': ' .. problem.skip .. '\n')
	else
		counts.failed = counts.failed + 1
		print('FAIL  ' .. file .. ': ' .. name .. '\n      ' .. tostring(problem))
	end
end

for _, file in ipairs(arg) do
	local tests = assert(dofile(file))
	local names = {}
	for name in pairs(tests) do
		names[#names + 1] = name
	end
	table.sort(names)
	for _, name in ipairs(names) do
		run_test(file:match('[^/]*$'), name, tests[name])
	end
end

print(string.format('%d passed, %d failed, %d skipped', counts.passed, counts.failed, counts.skipped))
if counts.failed > 0 or counts.passed == 0 then
	os.exit(1)
end
