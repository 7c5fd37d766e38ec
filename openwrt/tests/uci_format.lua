-- uci's file format (what libuci reads and writes under /etc/config), for
-- the simple-uci stand-in and for tests that compare UCI files. Test tooling,
-- not a stand-in of a Gluon module.

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

-- A file as plain data: sections in file order, each {name, type, options}
-- with list values as arrays; option order is dropped, since the real writer
-- (simple-uci's tset) emits options in pairs() order.
local function semantic(text, file)
	local out = {}
	for _, section in ipairs(parse(text or '', file or '?')) do
		out[#out + 1] = { name = section.anonymous and '' or section.name, type = section.type,
			options = section.options }
	end
	return out
end

local function describe(value)
	if type(value) == 'table' then
		return "{'" .. table.concat(value, "', '") .. "'}"
	end
	return "'" .. tostring(value) .. "'"
end

-- nil when two files hold the same sections, options, values and list
-- order; otherwise the first difference in words.
local function difference(expected_text, actual_text)
	local expected, actual = semantic(expected_text, 'expected'), semantic(actual_text, 'actual')
	for i = 1, math.max(#expected, #actual) do
		local e, a = expected[i], actual[i]
		if not e or not a then
			return string.format('section %d: expected %s, got %s', i,
				e and (e.type .. ' ' .. e.name) or 'none', a and (a.type .. ' ' .. a.name) or 'none')
		end
		if e.name ~= a.name or e.type ~= a.type then
			return string.format('section %d: expected %s %s, got %s %s', i, e.type, e.name, a.type, a.name)
		end
		local options = {}
		for k in pairs(e.options) do options[k] = true end
		for k in pairs(a.options) do options[k] = true end
		for option in pairs(options) do
			if describe(e.options[option]) ~= describe(a.options[option]) then
				return string.format('%s.%s: expected %s, got %s', e.name, option,
					e.options[option] and describe(e.options[option]) or 'unset',
					a.options[option] and describe(a.options[option]) or 'unset')
			end
		end
	end
	return nil
end

return { parse = parse, serialize = serialize, difference = difference }
