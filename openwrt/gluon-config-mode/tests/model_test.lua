-- The gluon-web controller and model against stand-ins of Gluon's modules
-- (gluon.site, simple-uci, gluon.util, ubus) and of the gluon-web classes:
-- page hidden where the site fixes the mode, default from UCI, what is
-- written on submit, live status only when mesh_vpn answers.
local H = dofile(arg[0]:gsub('[^/]*$', '') .. 'harness.lua')
local ROOT = arg[0]:gsub('tests/[^/]*$', '') .. 'luasrc/lib/gluon/config-mode/'

local function stub_site(mode)
	local wireguard = { loadbalancing = function() return mode end }
	return { mesh_vpn = { wireguard = wireguard } }
end

local function stub_uci(values)
	local uci = { values = values, saved = {}, committed = {} }
	function uci:get(config, section, option)
		return self.values[config .. '.' .. section .. '.' .. option]
	end
	function uci:set(config, section, option, value)
		self.values[config .. '.' .. section .. '.' .. option] = value
	end
	function uci:save(config) table.insert(self.saved, config) end
	function uci:commit(config) table.insert(self.committed, config) end
	return uci
end

-- A daemon answering `reply`, or none at all when reply is nil.
local function stub_ubus(reply)
	return {
		connect = function()
			if reply == nil then return nil end
			local function call(_, obj, method)
				if obj ~= 'mesh_vpn' or method ~= 'status' then return nil, 4 end
				if type(reply) == 'number' then return nil, reply end -- ubus-lua: nil, status
				return reply
			end
			return { call = call, close = function() end }
		end,
	}
end

-- gluon-web classes, recording what the model builds.
local function web_env()
	local built = { sections = {}, options = {} }
	local env = setmetatable({ translate = function(s) return s end, built = built }, { __index = _G })
	env.Section, env.Flag = 'Section', 'Flag'
	env.Form = function(title)
		local f = { title = title }
		function f:section(_, section_title, desc)
			local s = { title = section_title, desc = desc }
			function s:option(class, id, label)
				local o = { class = class, id = id, label = label }
				built.options[id] = o
				return o
			end
			table.insert(built.sections, s)
			return s
		end
		return f
	end
	return env
end

local function load_model(mode, uci_values, reply, setup_mode)
	local uci = stub_uci(uci_values or {})
	local util = { reconfigured = 0, in_setup_mode = function() return setup_mode ~= false end }
	function util.reconfigure_asynchronously() util.reconfigured = util.reconfigured + 1 end
	package.loaded['gluon.site'] = stub_site(mode)
	package.loaded['simple-uci'] = { cursor = function() return uci end }
	package.loaded['gluon.util'] = util
	package.loaded['ubus'] = stub_ubus(reply)
	local env = web_env()
	local chunk = assert(loadfile(ROOT .. 'model/admin/mesh_vpn_wg.lua'))
	setfenv(chunk, env)
	local form = chunk()
	return { form = form, built = env.built, uci = uci, util = util }
end

local function controller_entries(mode)
	package.loaded['gluon.site'] = stub_site(mode)
	local entries = {}
	local env = setmetatable({
		package = function() end,
		model = function(name) return name end,
		_ = function(s) return s end,
		entry = function(path, target) table.insert(entries, table.concat(path, '/') .. '=' .. target) end,
	}, { __index = _G })
	local chunk = assert(loadfile(ROOT .. 'controller/admin/mesh_vpn_wg.lua'))
	setfenv(chunk, env)
	chunk()
	return entries
end

H.test('the menu entry exists only for the *-by-default modes', function()
	for _, mode in ipairs({ 'on', 'off', false }) do
		H.eq(#controller_entries(mode or nil), 0, 'entries for ' .. tostring(mode))
	end
	for _, mode in ipairs({ 'on-by-default', 'off-by-default' }) do
		local entries = controller_entries(mode)
		H.eq(#entries, 1, 'entries for ' .. mode)
		H.eq(entries[1], 'admin/mesh_vpn_wg=admin/mesh_vpn_wg', 'entry')
	end
end)

H.test('fixed site modes get no toggle, even if reached directly', function()
	for _, mode in ipairs({ 'on', 'off', false }) do
		local m = load_model(mode or nil, { ['wireguard.mesh_vpn.loadbalancing'] = '1' })
		H.eq(m.built.options.loadbalancing, nil, 'toggle for ' .. tostring(mode))
		H.eq(#m.built.sections, 1, 'sections for ' .. tostring(mode))
	end
end)

H.test('the default is the effective value from site mode and override', function()
	local cases = {
		{ 'on-by-default', nil, true }, { 'on-by-default', '0', false },
		{ 'off-by-default', nil, false }, { 'off-by-default', '1', true },
		{ 'off-by-default', 'true', false },
	}
	for _, c in ipairs(cases) do
		local m = load_model(c[1], { ['wireguard.mesh_vpn.loadbalancing'] = c[2] })
		H.eq(m.built.options.loadbalancing.default, c[3], c[1] .. '/' .. tostring(c[2]))
	end
end)

H.test('submitting writes and commits the override', function()
	local m = load_model('off-by-default', {})
	m.built.options.loadbalancing:write(true)
	H.eq(m.uci.values['wireguard.mesh_vpn.loadbalancing'], '1', 'value')
	H.eq(m.uci.committed[1], 'wireguard', 'committed')
	H.eq(m.util.reconfigured, 0, 'no reconfigure in setup mode')

	m = load_model('on-by-default', { ['wireguard.mesh_vpn.loadbalancing'] = '1' }, nil, false)
	m.built.options.loadbalancing:write(false)
	H.eq(m.uci.values['wireguard.mesh_vpn.loadbalancing'], '0', 'value')
	H.eq(m.util.reconfigured, 1, 'reconfigure outside setup mode')
end)

H.test('keeping the site default writes nothing', function()
	local m = load_model('on-by-default', {})
	m.built.options.loadbalancing:write(true)
	H.eq(m.uci.values['wireguard.mesh_vpn.loadbalancing'], nil, 'value')
	H.eq(#m.uci.committed, 0, 'commits')
end)

H.test('live status only when mesh_vpn answers', function()
	local absent = load_model('on-by-default', {}, nil)
	H.eq(#absent.built.sections, 1, 'sections without daemon')
	local running = load_model('on-by-default', {}, { state = 'connected', peer = { name = 'gw2' } })
	H.eq(#running.built.sections, 2, 'sections with daemon')
	H.eq(running.built.sections[2].desc, 'Mesh VPN state: connected, gateway gw2', 'status line')
	local failing = load_model('on-by-default', {}, 6)
	H.eq(#failing.built.sections, 1, 'sections when the call fails')
end)

H.run()
