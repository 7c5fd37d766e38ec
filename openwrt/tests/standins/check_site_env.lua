-- TEST STAND-IN for Gluon's scripts/check_site.lua (not the real one): the
-- need_* helpers a package's check_site.lua calls, written from Gluon's
-- documented semantics, so check_site.lua can be run over fixture sites.
-- run(file, site, domains) returns true, or false and the first error.

local M = {}

local function is_array(t)
	local count = 0
	for _ in pairs(t) do
		count = count + 1
	end
	return count == #t
end

-- Domain values win; objects merge recursively, anything else is replaced.
local function merge(a, b)
	if b == nil then
		return a
	end
	if type(a) ~= 'table' or type(b) ~= 'table' or is_array(a) or is_array(b) then
		return b
	end
	local merged = {}
	for k, v in pairs(a) do
		merged[k] = v
	end
	for k, v in pairs(b) do
		merged[k] = merge(merged[k], v)
	end
	return merged
end

local function lookup(base, path)
	for _, key in ipairs(path) do
		if type(base) ~= 'table' then
			return nil
		end
		base = base[key]
	end
	return base
end

local function environment(site, domain_name, domain)
	local conf = domain and merge(site, domain) or site
	local env = setmetatable({}, { __index = _G })

	local function fail(path, value, message)
		local found = value == nil and 'unset' or string.format('%s (a %s value)', tostring(value), type(value))
		error(string.format('%s: expected %s to %s, but it is %s',
			domain_name or 'site.conf', table.concat(path, '.'), message, found), 0)
	end

	function env.extend(path, more)
		local extended = { unpack(path) }
		for _, key in ipairs(more) do
			extended[#extended + 1] = key
		end
		return extended
	end

	function env.in_site(path)
		if domain and lookup(domain, path) ~= nil then
			error(table.concat(path, '.') .. ' is allowed in site configuration only', 0)
		end
		return path
	end

	function env.in_domain(path)
		if domain and lookup(site, path) ~= nil then
			error(table.concat(path, '.') .. ' is allowed in domain configuration only', 0)
		end
		return path
	end

	function env.need(path, check, required, message)
		local value = lookup(conf, path)
		if required == false and value == nil then
			return nil
		end
		if value == nil or not check(value) then
			fail(path, value, message)
		end
		return value
	end

	local function need_type(kind, message)
		return function(path, required)
			return env.need(path, function(v) return type(v) == kind end, required, message)
		end
	end

	env.need_string = need_type('string', 'be a string')
	env.need_number = need_type('number', 'be a number')
	env.need_boolean = need_type('boolean', 'be a boolean')

	function env.need_string_match(path, pattern, required)
		local value = env.need_string(path, required)
		if value ~= nil and not value:match(pattern) then
			fail(path, value, "match pattern '" .. pattern .. "'")
		end
		return value
	end

	function env.need_one_of(path, choices, required)
		return env.need(path, function(v)
			for _, choice in ipairs(choices) do
				if v == choice then
					return true
				end
			end
			return false
		end, required, 'be one of the given array')
	end

	function env.need_table(path, subcheck, required)
		local value = env.need(path, function(v) return type(v) == 'table' end, required, 'be a table')
		if value and subcheck then
			for key in pairs(value) do
				subcheck(env.extend(path, { key }))
			end
		end
		return value
	end

	function env.need_array(path, subcheck, required)
		local value = env.need(path, function(v) return type(v) == 'table' end, required, 'be an array')
		if value and subcheck then
			for index = 1, #value do
				subcheck(env.extend(path, { index }))
			end
		end
		return value
	end

	return env
end

function M.run(file, site, domains)
	local chunk = assert(loadfile(file))
	local runs = {}
	if domains then
		for name, domain in pairs(domains) do
			runs[#runs + 1] = environment(site, 'domains/' .. name .. '.conf', domain)
		end
	else
		runs[1] = environment(site, nil, nil)
	end
	for _, env in ipairs(runs) do
		setfenv(chunk, env)
		local ok, problem = pcall(chunk)
		if not ok then
			return false, problem
		end
	end
	return true
end

return M
