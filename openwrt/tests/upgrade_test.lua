-- The upgrade script over fixture trees: fixtures/upgrade/<case>/ holds the
-- merged site (site.lua), the node's /etc/config before (before/) and the
-- expected configs after gluon-reconfigure's chain (after/; a config without
-- an after/ file must come out as it went in).

local helpers = require 'helpers'

local CASES = {
	'old-package-node',
	'disabled-in-gluon',
	'site-without-peers',
	'fastd-migration',
	'preserved-name-collision',
	'new-node',
}

local function script()
	return helpers.package_dir .. '/luasrc/lib/gluon/upgrade/400-mesh-vpn-wireguard'
end

local function private_key_line(text)
	return text and text:match("\n\toption privatekey ([^\n]*)\n")
end

local chain = require 'gluon_chain'

-- What each case must look like after the whole chain: after/<config>,
-- compared semantically; configs without an after/ file must stay as before.
local CHECKED = { 'wireguard', 'gluon', 'simple-tc' }

-- Runs gluon-reconfigure's chain (our 400, core's 500 and update-config) on
-- a copy of before/.
local function reconfigure(case_dir, config_dir)
	require('standin_state').uci_dir = config_dir
	require('standin_state').site = dofile(case_dir .. '/site.lua')
	chain.reconfigure(script())
end

local function check_configs(case_dir, config_dir, name, before)
	for _, config in ipairs(CHECKED) do
		local expected = helpers.read(case_dir .. '/after/' .. config) or before[config]
		local actual = helpers.read(config_dir .. '/' .. config)
		if expected == nil then
			assert(actual == nil or actual:match('^%s*$'), name .. ': ' .. config .. ' was created:\n' .. tostring(actual))
		else
			helpers.same_uci(actual, expected, name .. ': ' .. config .. ' after the chain')
		end
	end
end

local function check_case(name)
	local case_dir = helpers.tests_dir .. '/fixtures/upgrade/' .. name
	local config_dir = helpers.tempdir()
	helpers.copy_tree(case_dir .. '/before', config_dir)
	local before = {}
	for _, config in ipairs(CHECKED) do
		before[config] = helpers.read(config_dir .. '/' .. config)
	end
	assert(helpers.read(case_dir .. '/after/wireguard'), name .. ': no after/wireguard')

	reconfigure(case_dir, config_dir)
	local first = helpers.read(config_dir .. '/wireguard')
	check_configs(case_dir, config_dir, name, before)
	-- Byte for byte, read from the raw files rather than through a parser.
	helpers.equal(private_key_line(first), private_key_line(before.wireguard), name .. ': private key line')

	reconfigure(case_dir, config_dir)
	check_configs(case_dir, config_dir, name .. ' (second run)', before)
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
	require('standin_state').uci_dir = config_dir
	require('standin_state').site = { mesh_vpn = { wireguard = { peers = {} } } }
	chain.reconfigure(script())
	local after = helpers.read(config_dir .. '/wireguard')
	assert(after:find('\n\t' .. key .. '\n', 1, true), 'key changed:\n' .. after)
end

-- The stand-in must read and write uci's own format, or the fixtures would
-- only prove agreement with the stand-in.
tests['the uci stand-in rewrites uci-format files unchanged'] = function()
	local uci = require 'uci_format'
	local dir = helpers.tests_dir .. '/../../examples/ffmuc-node/etc/config'
	for _, name in ipairs({ 'gluon', 'system', 'wireguard' }) do
		local text = assert(helpers.read(dir .. '/' .. name), 'missing example config ' .. name)
		helpers.equal(uci.serialize(uci.parse(text, name)), text, name .. ' round trip')
	end
	local quoted = "\nconfig x 'a'\n\toption v 'it'\\''s'\n\tlist l 'one'\n\tlist l 'two'\n\n"
	helpers.equal(uci.serialize(uci.parse(quoted, 'quoted')), quoted, 'quotes and lists')
end

return tests
