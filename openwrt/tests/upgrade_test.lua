-- The upgrade script over fixture trees: fixtures/upgrade/<case>/ holds the
-- merged site (site.lua), the node's /etc/config before (before/) and the
-- expected wireguard config after (after/wireguard).

local helpers = require 'helpers'

local CASES = {
	'old-package-node',
	'disabled-in-gluon',
	'site-without-peers',
	'fastd-migration',
	'preserved-name-collision',
}

local function script()
	return helpers.package_dir .. '/luasrc/lib/gluon/upgrade/400-mesh-vpn-wireguard'
end

local function private_key_line(text)
	return text and text:match("\n\toption privatekey ([^\n]*)\n")
end

-- Runs the upgrade script as gluon-reconfigure would, on a copy of before/.
local function upgrade(case_dir, config_dir)
	require('simple-uci').config_dir = config_dir
	require('gluon.site').use(dofile(case_dir .. '/site.lua'))
	dofile(script())
end

local function check_case(name)
	local case_dir = helpers.tests_dir .. '/fixtures/upgrade/' .. name
	local config_dir = helpers.tempdir()
	helpers.copy_tree(case_dir .. '/before', config_dir)
	local before = helpers.read(config_dir .. '/wireguard')
	local gluon_before = helpers.read(config_dir .. '/gluon')
	local expected = assert(helpers.read(case_dir .. '/after/wireguard'))

	upgrade(case_dir, config_dir)
	local first = helpers.read(config_dir .. '/wireguard')
	helpers.equal(first, expected, name .. ': wireguard after the upgrade')
	-- Byte for byte, read from the raw files rather than through a parser.
	helpers.equal(private_key_line(first), private_key_line(before), name .. ': private key line')
	helpers.equal(helpers.read(config_dir .. '/gluon'), gluon_before, name .. ': gluon config untouched')

	upgrade(case_dir, config_dir)
	helpers.equal(helpers.read(config_dir .. '/wireguard'), first, name .. ': a second run changes nothing')
end

local tests = {}

for _, name in ipairs(CASES) do
	tests['migrates ' .. name .. ' idempotently'] = function()
		check_case(name)
	end
end

tests['every fixture case is listed'] = function()
	local listed = {}
	for _, name in ipairs(CASES) do
		listed[name] = true
	end
	local dirs = helpers.capture('ls ' .. helpers.shell_quote(helpers.tests_dir .. '/fixtures/upgrade'))
	for name in dirs:gmatch('[^\n]+') do
		assert(listed[name], 'fixture case ' .. name .. ' is not run')
	end
end

tests['the key survives with unusual but valid base64 characters'] = function()
	local config_dir = helpers.tempdir()
	local key = "option privatekey '+/+/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"
	helpers.write(config_dir .. '/wireguard', "\nconfig wireguard 'mesh_vpn'\n\t" .. key .. "\n\n")
	require('simple-uci').config_dir = config_dir
	require('gluon.site').use({ mesh_vpn = { wireguard = { peers = {} } } })
	dofile(script())
	local after = helpers.read(config_dir .. '/wireguard')
	assert(after:find('\n\t' .. key .. '\n', 1, true), 'key changed:\n' .. after)
end

-- The stand-in must write what uci itself writes, or the fixtures would
-- only prove agreement with the stand-in.
tests['the uci stand-in rewrites uci-format files unchanged'] = function()
	local uci = require 'simple-uci'
	local dir = helpers.tests_dir .. '/../../examples/ffmuc-node/etc/config'
	for _, name in ipairs({ 'gluon', 'system', 'wireguard' }) do
		local text = assert(helpers.read(dir .. '/' .. name), 'missing example config ' .. name)
		helpers.equal(uci.serialize(uci.parse(text, name)), text, name .. ' round trip')
	end
	local quoted = "\nconfig x 'a'\n\toption v 'it'\\''s'\n\tlist l 'one'\n\tlist l 'two'\n\n"
	helpers.equal(uci.serialize(uci.parse(quoted, 'quoted')), quoted, 'quotes and lists')
end

return tests
