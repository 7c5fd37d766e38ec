-- A minimal test runner for lua5.1: named cases, failures reported with
-- their message, and the closing "N passed, N failed" line; exits 1 on failure.
local H = { cases = {} }

function H.test(name, fn)
	table.insert(H.cases, { name = name, fn = fn })
end

function H.eq(actual, expected, what)
	if actual ~= expected then
		error(string.format('%s: expected %s, got %s', what or 'value',
			tostring(expected), tostring(actual)), 2)
	end
end

function H.run()
	local passed, failed = 0, 0
	for _, case in ipairs(H.cases) do
		local ok, err = pcall(case.fn)
		if ok then
			passed = passed + 1
			print('ok - ' .. case.name)
		else
			failed = failed + 1
			print('not ok - ' .. case.name .. ': ' .. tostring(err))
		end
	end
	print(string.format('%d passed, %d failed', passed, failed))
	os.exit(failed == 0 and 0 or 1)
end

return H
