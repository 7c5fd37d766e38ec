-- TEST STAND-IN for Gluon's `simple-uci` (not the real one). Real module:
-- freifunk-gluon/packages libs/lua-simple-uci/src/simple-uci.lua, a cursor
-- of the OpenWrt uci binding plus set (booleans), delete_all, section, tset,
-- get_bool, get_first. This one offers a subset of those names (checked by
-- standins_surface_test.lua against tests/api/) over uci-format files in
-- standin_state.uci_dir. Differences on purpose: save() writes the file at
-- once (the real one writes a delta that Gluon's 998-commit commits), and
-- the files are read when the cursor is made and written whole.

local format = require 'uci_format'
local state = require 'standin_state'

local M = { APIVERSION = 2 }

local Cursor = {}
Cursor.__index = Cursor

-- Internal helpers are locals, so the cursor's surface stays the real one's.
local function load(self, config)
	if not self[1][config] then
		local path = self[2] .. '/' .. config
		local file = io.open(path)
		local sections = {}
		if file then
			sections = format.parse(file:read('*a'), path)
			file:close()
		end
		self[1][config] = sections
	end
	return self[1][config]
end

local function find(self, config, name)
	for index, section in ipairs(load(self, config)) do
		if section.name == name then
			return section, index
		end
	end
	return nil
end

function M.cursor()
	return setmetatable({ {}, state.uci_dir }, Cursor)
end

-- uci stores every value as a string or a list of strings; simple-uci
-- turns booleans into '1'/'0' first.
local function to_value(value)
	if type(value) == 'boolean' then
		return value and '1' or '0'
	elseif type(value) == 'number' then
		return tostring(value)
	elseif type(value) == 'table' then
		local list = {}
		for i, item in ipairs(value) do
			list[i] = tostring(item)
		end
		return list
	end
	return value
end

function Cursor:get(config, name, option)
	local section = find(self, config, name)
	if not section then
		return nil
	end
	if option == nil then
		return section.type
	end
	return section.options[option]
end

function Cursor:get_bool(config, name, option)
	local value = self:get(config, name, option)
	return value == '1' or value == 'true' or value == 'yes' or value == 'on'
end

function Cursor:get_all(config, name)
	local section = find(self, config, name)
	if not section then
		return nil
	end
	local all = { ['.name'] = section.name, ['.type'] = section.type }
	for option, value in pairs(section.options) do
		all[option] = value
	end
	return all
end

-- set(config, name, type) creates or retypes a section; with four arguments
-- it sets an option, and an empty value deletes it, as uci does.
function Cursor:set(config, name, option, value)
	local section = find(self, config, name)
	if value == nil then
		if section then
			section.type = option
		else
			local sections = load(self, config)
			sections[#sections + 1] = { name = name, type = option, options = {}, order = {} }
		end
		return true
	end
	if not section then
		return false
	end
	value = to_value(value)
	if value == '' or (type(value) == 'table' and #value == 0) then
		return self:delete(config, name, option)
	end
	if section.options[option] == nil then
		section.order[#section.order + 1] = option
	end
	section.options[option] = value
	return true
end

function Cursor:delete(config, name, option)
	local section, index = find(self, config, name)
	if not section then
		return false
	end
	if option == nil then
		table.remove(load(self, config), index)
		return true
	end
	if section.options[option] == nil then
		return false
	end
	section.options[option] = nil
	for i, known in ipairs(section.order) do
		if known == option then
			table.remove(section.order, i)
			break
		end
	end
	return true
end

-- As the real tset: pairs() order, so a writer's option order is not
-- something a test may rely on (compare with uci_format.difference).
function Cursor:tset(config, name, values)
	local ok = true
	for option, value in pairs(values) do
		if option:sub(1, 1) ~= '.' then
			ok = self:set(config, name, option, value) and ok
		end
	end
	return ok
end

function Cursor:section(config, kind, name, values)
	local ok = self:set(config, name, kind)
	if ok and values then
		ok = self:tset(config, name, values)
	end
	return ok and name
end

function Cursor:foreach(config, kind, callback)
	local matching = {}
	for _, section in ipairs(load(self, config)) do
		if kind == nil or section.type == kind then
			matching[#matching + 1] = section.name
		end
	end
	for _, name in ipairs(matching) do
		if callback(self:get_all(config, name)) == false then
			break
		end
	end
end

function Cursor:get_first(config, kind, option, default)
	local found = default
	self:foreach(config, kind, function(section)
		local value = section['.name']
		if option then
			value = section[option]
		end
		if value ~= nil then
			found = value
			return false
		end
	end)
	return found
end

function Cursor:delete_all(config, kind, predicate)
	local doomed = {}
	self:foreach(config, kind, function(section)
		if predicate == nil or predicate(section) then
			doomed[#doomed + 1] = section['.name']
		end
	end)
	for _, name in ipairs(doomed) do
		self:delete(config, name)
	end
end

function Cursor:save(config)
	local sections = self[1][config]
	if not sections then
		return true
	end
	local file = assert(io.open(self[2] .. '/' .. config, 'w'))
	file:write(format.serialize(sections))
	file:close()
	return true
end

Cursor.commit = Cursor.save

return M
