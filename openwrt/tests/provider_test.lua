-- The mesh-vpn provider module. public_key() runs the real mesh-vpn-wg
-- binary (MESH_VPN_WG_BIN) over a node tree and is checked against
-- `wg pubkey`, an independent implementation.

local helpers = require 'helpers'

local EXAMPLE_NODE = helpers.tests_dir .. '/../../examples/ffmuc-node'

local function provider_with(site, config_dir)
	require('standin_state').uci_dir = config_dir
	require('standin_state').site = site
	return require 'gluon.mesh-vpn.provider.wireguard'
end

local function example_site()
	return { mesh_vpn = { wireguard = { iface = 'wg_mesh_vpn', mtu = 1406, broker = 'broker.example' } } }
end

local function binary_or_skip()
	local binary = os.getenv('MESH_VPN_WG_BIN')
	if not binary or binary == '' or not helpers.read(binary) then
		helpers.skip('MESH_VPN_WG_BIN does not name a built mesh-vpn-wg binary')
	end
	return binary
end

local function wg_pubkey_or_skip(private_key)
	if helpers.capture('command -v wg') == '' then
		helpers.skip('wg (wireguard-tools) is not installed')
	end
	local output = helpers.capture('printf %s ' .. helpers.shell_quote(private_key) .. ' | wg pubkey')
	return (output:gsub('%s+$', ''))
end

-- A copy of the example node whose wireguard config is `wireguard_text`.
local function node_tree(wireguard_text)
	local root = helpers.tempdir()
	helpers.copy_tree(EXAMPLE_NODE, root)
	helpers.write(root .. '/etc/config/wireguard', wireguard_text)
	return root
end

local function explain_command(binary, root)
	return 'exec ' .. helpers.shell_quote(binary) .. ' --root ' .. helpers.shell_quote(root)
		.. ' explain --json 2>/dev/null'
end

local tests = {}

tests['public_key is derived from the UCI private key without a tunnel'] = function()
	local binary = binary_or_skip()
	local private_key = 'WK7hMVJ+bGzAFuHRc+Z+N1DfgtpwnTlBx4+JVUmFcWc='
	local expected = wg_pubkey_or_skip(private_key)
	local root = node_tree("\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\toption privatekey '"
		.. private_key .. "'\n\n")
	local provider = provider_with(example_site(), root .. '/etc/config')
	provider.explain_command = explain_command(binary, root)
	helpers.equal(provider.public_key(), expected, 'public key')
end

tests['public_key is nil while the node has no private key yet'] = function()
	local binary = binary_or_skip()
	local root = node_tree("\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\n")
	local provider = provider_with(example_site(), root .. '/etc/config')
	provider.explain_command = explain_command(binary, root)
	helpers.equal(provider.public_key(), nil, 'public key without a private key')
end

tests['public_key is nil when the binary fails or prints nonsense'] = function()
	local provider = provider_with(example_site(), helpers.tempdir())
	provider.explain_command = 'exit 1'
	helpers.equal(provider.public_key(), nil, 'failing command')
	provider.explain_command = 'echo "not json"'
	helpers.equal(provider.public_key(), nil, 'not JSON')
	provider.explain_command = [[echo '{"public_key": null, "peers": [{"public_key": ]]
		.. [["TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g="}]}']]
	helpers.equal(provider.public_key(), nil, 'a peer key must not be taken for the node key')
	provider.explain_command = [[echo '{"public_key": "short="}']]
	helpers.equal(provider.public_key(), nil, 'not a key')
end

tests['enable writes wireguard.mesh_vpn.enabled'] = function()
	local dir = helpers.tempdir()
	helpers.write(dir .. '/wireguard', "\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\toption privatekey 'k'\n\n")
	local provider = provider_with(example_site(), dir)
	provider.enable(false)
	helpers.same_uci(helpers.read(dir .. '/wireguard'),
		"\nconfig wireguard 'mesh_vpn'\n\toption enabled '0'\n\toption privatekey 'k'\n\n", 'after enable(false)')
	provider.enable(true)
	assert(helpers.read(dir .. '/wireguard'):find("option enabled '1'", 1, true), 'enable(true) not written')
end

tests['active follows the site and mtu comes from it'] = function()
	local dir = helpers.tempdir()
	local provider = provider_with(example_site(), dir)
	assert(provider.active() == true, 'a site with mesh_vpn.wireguard is active')
	helpers.equal(provider.mtu(), 1406, 'mtu')
	assert(provider.pubkey_privacy() == false, 'pubkey_privacy must be false')
	require('standin_state').site = { mesh_vpn = { fastd = {} } }
	assert(provider.active() == false, 'a fastd site is not active')
end

tests['set_limit writes simple-tc on mesh-vpn and removes it'] = function()
	local dir = helpers.tempdir()
	helpers.write(dir .. '/simple-tc', "\nconfig interface 'other'\n\toption ifname 'eth0'\n\n")
	local provider = provider_with(example_site(), dir)
	provider.set_limit(55000, 15000)
	helpers.same_uci(helpers.read(dir .. '/simple-tc'), table.concat({
		"\nconfig interface 'other'\n\toption ifname 'eth0'\n",
		"\nconfig interface 'mesh_vpn'\n\toption enabled '1'\n\toption ifname 'mesh-vpn'\n",
		"\toption limit_egress '15000'\n\toption limit_ingress '55000'\n\n",
	}), 'simple-tc with a limit')
	provider.set_limit(nil, nil)
	helpers.same_uci(helpers.read(dir .. '/simple-tc'), "\nconfig interface 'other'\n\toption ifname 'eth0'\n\n",
		'simple-tc without a limit')
end

return tests
