-- Small helpers shared by the Lua tests.

local M = {}

local function shell_quote(text)
	return "'" .. text:gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

local function run(command)
	local status = os.execute(command)
	assert(status == 0 or status == true, 'command failed: ' .. command)
end

function M.read(path)
	local file = io.open(path)
	if not file then
		return nil
	end
	local text = file:read('*a')
	file:close()
	return text
end

function M.write(path, text)
	local file = assert(io.open(path, 'w'))
	file:write(text)
	file:close()
end

-- A fresh directory, removed by M.cleanup().
local made = {}
function M.tempdir()
	local pipe = assert(io.popen('mktemp -d'))
	local dir = pipe:read('*l')
	pipe:close()
	assert(dir and dir ~= '', 'mktemp -d failed')
	made[#made + 1] = dir
	return dir
end

function M.cleanup()
	for _, dir in ipairs(made) do
		run('rm -rf ' .. shell_quote(dir))
	end
	made = {}
end

function M.copy_tree(from, to)
	run('mkdir -p ' .. shell_quote(to) .. ' && cp -R ' .. shell_quote(from) .. '/. ' .. shell_quote(to))
end

function M.capture(command)
	local pipe = assert(io.popen(command))
	local output = pipe:read('*a')
	pipe:close()
	return output
end

function M.skip(reason)
	error({ skip = reason }, 0)
end

function M.equal(actual, expected, what)
	if actual ~= expected then
		error(string.format('%s:\n--- expected ---\n%s\n--- actual ---\n%s',
			what or 'values differ', tostring(expected), tostring(actual)), 2)
	end
end

-- UCI files compared as uci reads them (sections, options, values, list
-- order), not byte for byte: the real writer decides the option order.
function M.same_uci(actual, expected, what)
	local difference = require('uci_format').difference(expected, actual)
	if difference then
		error(string.format('%s: %s\n--- expected ---\n%s\n--- actual ---\n%s',
			what or 'UCI differs', difference, tostring(expected), tostring(actual)), 2)
	end
end

function M.fails_with(fn, pattern)
	local ok, problem = pcall(fn)
	assert(not ok, 'expected an error matching ' .. pattern)
	assert(tostring(problem):find(pattern), 'error "' .. tostring(problem) .. '" does not match ' .. pattern)
end

return M
