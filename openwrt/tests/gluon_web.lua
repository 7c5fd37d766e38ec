-- Test tooling: runs gluon-web controllers, models and wizard steps the way
-- gluon-web does, over the class stand-in (standins/gluon/web/model/
-- classes.lua). From GLUON package/gluon-web-model/.../gluon/web/model.lua
-- (a model's environment: classes, then the page's i18n object, then _G;
-- parse(http) and handle() on every returned form) and gluon-config-mode-
-- core's model/gluon-config-mode/wizard.lua (every wizard file returns
-- function(form, uci), run in the wizard's environment).

local classes = require 'gluon.web.model.classes'

local M = {}

-- msgid -> msgstr of a .po file (single and continued lines).
function M.catalogue(po_path)
	local file = po_path and io.open(po_path)
	local map = {}
	if not file then
		return map
	end
	local key, current
	local function unquote(s)
		return (s:gsub('\\(.)', { n = '\n', ['"'] = '"', ['\\'] = '\\' }))
	end
	for line in file:lines() do
		local kind, text = line:match('^(msg%a+) "(.*)"$')
		local more = line:match('^"(.*)"$')
		if kind == 'msgid' then
			key, current = unquote(text), 'id'
		elseif kind == 'msgstr' then
			current = 'str'
			map[key] = unquote(text)
		elseif more and current == 'id' then
			key = key .. unquote(more)
		elseif more and current == 'str' then
			map[key] = map[key] .. unquote(more)
		end
	end
	file:close()
	return map
end

-- gluon-web's i18n object: translate falls back to the msgid; every msgid
-- asked for is recorded in `used`, so tests can check the catalogues.
function M.i18n(catalogue, used)
	local function translate(msgid)
		used[msgid] = true
		local text = catalogue[msgid]
		return (text and text ~= '') and text or msgid
	end
	return {
		translate = translate,
		translatef = function(msgid, ...) return translate(msgid):format(...) end,
	}
end

-- `catalogues` maps a package name to its .po catalogue; `pkg` is the page's.
local function environment(catalogues, pkg, used)
	local i18n = setmetatable({
		i18n = function(name) return M.i18n(catalogues[name] or {}, used) end,
	}, { __index = M.i18n(catalogues[pkg] or {}, used) })
	return setmetatable({}, {
		__index = function(_, key) return classes[key] or i18n[key] or _G[key] end,
	})
end

function M.load_model(path, catalogues, pkg, used)
	local chunk = assert(loadfile(path))
	setfenv(chunk, environment(catalogues, pkg, used or {}))
	local models = { chunk() }
	for index, model in ipairs(models) do
		model.index = index
	end
	return models
end

-- The wizard's form with every step file added, as wizard.lua builds it.
function M.load_wizard(step_paths, uci, catalogues, used)
	local env = environment(catalogues, 'gluon-config-mode-core', used or {})
	local form = classes.Form('Welcome!')
	form.index = 1
	form:section(classes.Section)
	for _, path in ipairs(step_paths) do
		local chunk = assert(loadfile(path))
		setfenv(chunk, env)
		chunk()(form, uci)
	end
	return { form }
end

-- A request: method 'GET' or 'POST', `values` maps field ids to strings.
function M.request(models, method, values)
	local http = {
		formvalue = function(_, id) return values and values[id] end,
		getenv = function(_, name) if name == 'REQUEST_METHOD' then return method end end,
	}
	for _, model in ipairs(models) do model:parse(http) end
	for _, model in ipairs(models) do model:handle() end
end

-- Every option of the models, by its name.
function M.options(models)
	local found = {}
	local function walk(node)
		if node.name then found[node.name] = node end
		for _, child in ipairs(node.children or {}) do walk(child) end
	end
	for _, model in ipairs(models) do walk(model) end
	return found
end

-- What a browser posts for a form: the submit marker plus the fields given
-- (a checked Flag is present, an unchecked one is absent).
function M.post(models, fields)
	local values = { [models[1]:id()] = '1' }
	local options = M.options(models)
	for name, value in pairs(fields) do
		local option = assert(options[name], 'no option ' .. name)
		if value ~= false then
			values[option:id()] = value == true and '1' or value
		end
	end
	M.request(models, 'POST', values)
end

-- A controller's environment (gluon-web's dispatcher: package, entry, model,
-- _), recording the menu entries it makes.
function M.controller_env(entries)
	return setmetatable({
		package = function() end,
		model = function(name) return 'model:' .. name end,
		_ = function(s) return s end,
		entry = function(p, target, title, order)
			entries[#entries + 1] = { path = table.concat(p, '/'), target = target, title = title, order = order }
		end,
	}, { __index = _G })
end

function M.load_controller(path)
	local entries = {}
	local chunk = assert(loadfile(path))
	setfenv(chunk, M.controller_env(entries))
	chunk()
	return entries
end

return M
