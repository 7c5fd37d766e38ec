-- TEST STAND-IN for Gluon's `simple-uci` Lua binding (not the real one).
-- It reads and writes UCI files in `M.config_dir` in uci's own file format.
-- Difference from the real binding, on purpose: save() writes the file at
-- once (the real one writes a delta that Gluon's 998-commit commits).

local M = { config_dir = '/etc/config' }

local function parse_words(line)
	local words, pos = {}, 1
	while true do
		pos = line:find('%S', pos)
		if not pos or line:sub(pos, pos) == '#' then
			return words
		end
		local word = {}
		while pos <= #line and not line:sub(pos, pos):match('%s') do
			local char = line:sub(pos, pos)
			if char == "'" or char == '"' then
				local close = line:find(char, pos + 1, true)
				if not close then
					return nil, 'unterminated quote'
				end
				word[#word + 1] = line:sub(pos + 1, close - 1)
				pos = close + 1
			elseif char == '\\' then
				-- Outside quotes a backslash escapes the next character ('\'' in uci files).
				word[#word + 1] = line:sub(pos + 1, pos + 1)
				pos = pos + 2
			else
				local stop = line:find("[%s'\"\\]", pos) or #line + 1
				word[#word + 1] = line:sub(pos, stop - 1)
				pos = stop
			end
		end
		words[#words + 1] = table.concat(word)
	end
end

local function parse(text, file)
	local sections, anonymous = {}, 0
	local current
	local line_number = 0
	for line in (text .. '\n'):gmatch('([^\n]*)\n') do
		line_number = line_number + 1
		local words, problem = parse_words(line)
		if not words then
			error(string.format('%s:%d: %s', file, line_number, problem))
		end
		local kind = words[1]
		if kind == 'config' then
			local name = words[3]
			if not name then
				anonymous = anonymous + 1
				name = string.format('cfg%02x', anonymous)
			end
			current = { name = name, type = words[2], options = {}, order = {}, anonymous = words[3] == nil }
			sections[#sections + 1] = current
		elseif (kind == 'option' or kind == 'list') and current then
			local option, value = words[2], words[3] or ''
			if current.options[option] == nil then
				current.order[#current.order + 1] = option
			end
			if kind == 'list' then
				local list = type(current.options[option]) == 'table' and current.options[option] or {}
				list[#list + 1] = value
				current.options[option] = list
			else
				current.options[option] = value
			end
		elseif kind ~= nil then
			error(string.format('%s:%d: unexpected %q', file, line_number, kind))
		end
	end
	return sections
end

local function quote(value)
	return "'" .. value:gsub("'", "'\\''") .. "'"
end

local function serialize(sections)
	local out = {}
	for _, section in ipairs(sections) do
		-- uci writes anonymous sections without a name.
		local name = section.anonymous and '' or ' ' .. quote(section.name)
		out[#out + 1] = '\nconfig ' .. section.type .. name .. '\n'
		for _, option in ipairs(section.order) do
			local value = section.options[option]
			if type(value) == 'table' then
				for _, item in ipairs(value) do
					out[#out + 1] = '\tlist ' .. option .. ' ' .. quote(item) .. '\n'
				end
			else
				out[#out + 1] = '\toption ' .. option .. ' ' .. quote(value) .. '\n'
			end
		end
	end
	out[#out + 1] = '\n'
	return table.concat(out)
end

local Cursor = {}
Cursor.__index = Cursor

function M.cursor()
	return setmetatable({ configs = {}, dir = M.config_dir }, Cursor)
end

function Cursor:load(config)
	if not self.configs[config] then
		local path = self.dir .. '/' .. config
		local file = io.open(path)
		local sections = {}
		if file then
			sections = parse(file:read('*a'), path)
			file:close()
		end
		self.configs[config] = sections
	end
	return self.configs[config]
end

function Cursor:find(config, name)
	for index, section in ipairs(self:load(config)) do
		if section.name == name then
			return section, index
		end
	end
	return nil
end

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
	local section = self:find(config, name)
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
	local section = self:find(config, name)
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
	local section = self:find(config, name)
	if value == nil then
		if section then
			section.type = option
		else
			local sections = self:load(config)
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
	local section, index = self:find(config, name)
	if not section then
		return false
	end
	if option == nil then
		table.remove(self:load(config), index)
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

-- Options are set in sorted order so test output does not depend on the
-- order pairs() happens to visit a table in.
function Cursor:section(config, kind, name, values)
	self:set(config, name, kind)
	local options = {}
	for option in pairs(values or {}) do
		options[#options + 1] = option
	end
	table.sort(options)
	for _, option in ipairs(options) do
		self:set(config, name, option, values[option])
	end
	return name
end

function Cursor:foreach(config, kind, callback)
	local matching = {}
	for _, section in ipairs(self:load(config)) do
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
	local sections = self.configs[config]
	if not sections then
		return true
	end
	local file = assert(io.open(self.dir .. '/' .. config, 'w'))
	file:write(serialize(sections))
	file:close()
	return true
end

Cursor.commit = Cursor.save

M.parse = parse
M.serialize = serialize

return M
