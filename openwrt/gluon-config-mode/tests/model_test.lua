-- The config-mode page (controller + model) and the wizard step, run through
-- gluon-web's form handling (tests/gluon_web.lua over the class stand-in)
-- with the stand-ins of simple-uci, gluon.site and ubus: what is shown, what
-- a POST writes (byte for byte elsewhere in the file), and the translations.
local here = arg[0]:gsub('[^/]*$', '')
local TESTS = here .. '../../tests/'
package.path = table.concat({ TESTS .. '?.lua', TESTS .. 'standins/?.lua',
	here .. '../luasrc/usr/lib/lua/?.lua', package.path }, ';')

local H = dofile(here .. 'harness.lua')
local web = require 'gluon_web'
local helpers = require 'helpers'
local state = require 'standin_state'

local ROOT = here .. '../luasrc/lib/gluon/config-mode/'
local MODEL = ROOT .. 'model/admin/mesh_vpn_wg.lua'
local CONTROLLER = ROOT .. 'controller/admin/mesh_vpn_wg.lua'
local WIZARD = ROOT .. 'wizard/0310-mesh-vpn-wg.lua'
local PKG = 'gluon-web-mesh-vpn-wg'
local KEY_LINE = "\toption privatekey 'WK7hMVJ+bGzAFuHRc+Z+N1DfgtpwnTlBx4+JVUmFcWc='\n"

local function catalogues(lang)
	return { [PKG] = web.catalogue(lang and (here .. '../i18n/' .. lang .. '.po')) }
end

-- A node: site mode, the override in UCI (or nil), the daemon's reply.
local function node(mode, override, reply)
	local dir = helpers.tempdir()
	local text = "\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n" .. KEY_LINE
	if override then
		text = text .. "\toption loadbalancing '" .. override .. "'\n"
	end
	helpers.write(dir .. '/wireguard', text .. '\n')
	for _, m in ipairs({ 'simple-uci', 'gluon.site' }) do package.loaded[m] = nil end
	state.uci_dir, state.ubus_reply = dir, reply
	state.site = { mesh_vpn = { wireguard = { loadbalancing = mode } } }
	return dir
end

local function wireguard(dir) return helpers.read(dir .. '/wireguard') end
local function override_in(dir) return wireguard(dir):match("option loadbalancing '([^']*)'") end

local function page(lang, used)
	return web.load_model(MODEL, catalogues(lang), PKG, used)
end

local function wizard(lang, used)
	return web.load_wizard({ WIZARD }, require('simple-uci').cursor(), catalogues(lang), used)
end

local FIXED = { 'on', 'off', false }
local CHANGEABLE = { 'on-by-default', 'off-by-default' }

local function case(name, fn)
	H.test(name, function()
		local ok, err = pcall(fn)
		helpers.cleanup()
		if not ok then error(err, 0) end
	end)
end

case('the menu entry exists only where the owner may choose', function()
	for _, mode in ipairs(FIXED) do
		node(mode or nil)
		H.eq(#web.load_controller(CONTROLLER), 0, 'entries for ' .. tostring(mode))
	end
	for _, mode in ipairs(CHANGEABLE) do
		node(mode)
		local entries = web.load_controller(CONTROLLER)
		H.eq(#entries, 1, 'entries for ' .. mode)
		H.eq(entries[1].path .. ' ' .. entries[1].target, 'admin/mesh_vpn_wg model:admin/mesh_vpn_wg', 'entry')
	end
end)

case('page: the checkbox follows UCI and the site default', function()
	local cases = { { 'on-by-default', nil, true }, { 'on-by-default', '0', false },
		{ 'off-by-default', nil, false }, { 'off-by-default', '1', true }, { 'off-by-default', 'true', false } }
	for _, c in ipairs(cases) do
		node(c[1], c[2])
		local models = page()
		web.request(models, 'GET')
		H.eq(web.options(models).loadbalancing:cfgvalue(), c[3], c[1] .. '/' .. tostring(c[2]))
	end
end)

case('page: saving writes only the override; the key line stays byte for byte', function()
	local dir = node('off-by-default')
	local before = wireguard(dir)
	web.post(page(), { loadbalancing = true })
	H.eq(override_in(dir), '1', 'override after ticking')
	H.eq(wireguard(dir), before:gsub('\n\n$', "\n\toption loadbalancing '1'\n\n"), 'the whole file')
	web.post(page(), { loadbalancing = false })
	H.eq(override_in(dir), '0', 'override after unticking')
	assert(wireguard(dir):find(KEY_LINE, 1, true), 'private key line changed')
end)

case('page: keeping the site default writes nothing; a GET writes nothing', function()
	local dir = node('on-by-default')
	local before = wireguard(dir)
	web.post(page(), { loadbalancing = true })
	H.eq(wireguard(dir), before, 'after saving the default')
	web.request(page(), 'GET')
	H.eq(wireguard(dir), before, 'after a GET')
end)

case('page: a fixed site mode gets no checkbox, and forged POSTs change nothing', function()
	for _, mode in ipairs(FIXED) do
		local dir = node(mode or nil, '1')
		local before = wireguard(dir)
		local models = page()
		H.eq(web.options(models).loadbalancing, nil, 'checkbox for ' .. tostring(mode))
		web.request(models, 'POST', { ['id.1'] = '1', ['id.1.2.loadbalancing'] = '1' })
		H.eq(wireguard(dir), before, 'after a forged POST, ' .. tostring(mode))
	end
end)

case('page: the live line only when mesh_vpn answers', function()
	node('on-by-default', nil, nil)
	H.eq(#page()[1].children, 1, 'sections without ubusd')
	node('on-by-default', nil, 4)
	H.eq(#page()[1].children, 1, 'sections when mesh_vpn is missing')
	node('on-by-default', nil, { state = 'connected', peer = { name = 'gw2' } })
	local sections = page()[1].children
	H.eq(#sections, 2, 'sections with the daemon')
	H.eq(sections[2].description, 'Mesh VPN state: connected, gateway gw2', 'status line')
end)

case('wizard: the step appears only where the owner may choose', function()
	for _, mode in ipairs(FIXED) do
		node(mode or nil)
		H.eq(web.options(wizard()).mesh_vpn_wg_loadbalancing, nil, 'step for ' .. tostring(mode))
	end
	for _, mode in ipairs(CHANGEABLE) do
		node(mode, '1')
		H.eq(web.options(wizard()).mesh_vpn_wg_loadbalancing:cfgvalue(), true, 'default for ' .. mode)
	end
end)

case('wizard: says when the choice applies, from gluon.mesh_vpn.enabled', function()
	local dir = node('on-by-default')
	local description = function() return wizard()[1].children[2].description end
	assert(description():find('off at the moment', 1, true), 'no hint that the VPN is off: ' .. description())
	helpers.write(dir .. '/gluon', "\nconfig mesh_vpn 'mesh_vpn'\n\toption enabled '1'\n\n")
	package.loaded['simple-uci'] = nil
	assert(description():find('applies while', 1, true), 'wrong hint with the VPN on: ' .. description())
end)

case('wizard: saving sets and saves the override, nothing else', function()
	local dir = node('on-by-default')
	local before = wireguard(dir)
	web.post(wizard(), { mesh_vpn_wg_loadbalancing = false })
	H.eq(override_in(dir), '0', 'override')
	H.eq(wireguard(dir), before:gsub('\n\n$', "\n\toption loadbalancing '0'\n\n"), 'the whole file')
	web.post(wizard(), { mesh_vpn_wg_loadbalancing = true })
	H.eq(override_in(dir), '1', 'override back on')
end)

-- Every text both pages show has a German and a French translation, and a
-- page in French shows French.
case('translations: de and fr cover every text, and fr shows French', function()
	local used = {}
	node('on-by-default', nil, { state = 'connected', peer = { name = 'gw1' } })
	page(nil, used)
	wizard(nil, used)
	node('on')
	page(nil, used)
	for _, lang in ipairs({ 'de', 'fr' }) do
		local cat = catalogues(lang)[PKG]
		for msgid in pairs(used) do
			assert(cat[msgid] and cat[msgid] ~= '', lang .. '.po has no translation for: ' .. msgid)
		end
	end
	node('off-by-default')
	local french = page('fr')
	H.eq(french[1].title, catalogues('fr')[PKG]['Mesh VPN loadbalancing'], 'French title')
	assert(french[1].title ~= 'Mesh VPN loadbalancing', 'the French title is English')
	local step = web.options(wizard('fr')).mesh_vpn_wg_loadbalancing
	assert(step.title ~= 'Let the broker assign the gateway (loadbalancing)', 'the wizard step is English in fr')
end)

H.run()
