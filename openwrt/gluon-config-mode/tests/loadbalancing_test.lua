-- Decisions of the config-mode page for each site mode and override.
local H = dofile(arg[0]:gsub('[^/]*$', '') .. 'harness.lua')
local lb = require 'gluon.mesh-vpn-wg.loadbalancing'

local ABSENT = nil

H.test('only the *-by-default modes are changeable', function()
	H.eq(lb.changeable('on'), false, 'on')
	H.eq(lb.changeable('off'), false, 'off')
	H.eq(lb.changeable(ABSENT), false, 'absent')
	H.eq(lb.changeable('on-by-default'), true, 'on-by-default')
	H.eq(lb.changeable('off-by-default'), true, 'off-by-default')
	H.eq(lb.changeable('ON'), false, 'wrong case')
end)

H.test('only exact 1 and 0 are an override', function()
	H.eq(lb.parse_override('1'), true, '1')
	H.eq(lb.parse_override('0'), false, '0')
	for _, other in ipairs({ 'true', 'yes', ' 1', '' }) do
		H.eq(lb.parse_override(other), nil, other)
	end
	H.eq(lb.parse_override(nil), nil, 'nil')
end)

-- site mode, override, effective (domain.md 4.6; absent key = off)
local EFFECTIVE = {
	{ 'on', nil, true }, { 'on', false, true },
	{ 'off', nil, false }, { 'off', true, false },
	{ 'on-by-default', nil, true }, { 'on-by-default', false, false }, { 'on-by-default', true, true },
	{ 'off-by-default', nil, false }, { 'off-by-default', true, true }, { 'off-by-default', false, false },
	{ ABSENT, nil, false }, { ABSENT, true, false },
}

H.test('effective value for every site mode and override', function()
	for _, row in ipairs(EFFECTIVE) do
		H.eq(lb.effective(row[1], row[2]), row[3],
			string.format('%s/%s', tostring(row[1]), tostring(row[2])))
	end
end)

-- site mode, current UCI value, wanted, value to write (nil = nothing)
local WRITES = {
	{ 'on', nil, false, nil }, { 'off', '1', true, nil }, { ABSENT, nil, true, nil },
	{ 'on-by-default', nil, true, nil }, { 'on-by-default', nil, false, '0' },
	{ 'on-by-default', '0', true, '1' }, { 'on-by-default', '1', true, '1' },
	{ 'off-by-default', nil, false, nil }, { 'off-by-default', nil, true, '1' },
	{ 'off-by-default', '1', false, '0' }, { 'off-by-default', 'yes', true, '1' },
	{ 'off-by-default', 'yes', false, nil },
}

H.test('what to write for each site mode, current override and choice', function()
	for _, row in ipairs(WRITES) do
		H.eq(lb.uci_value_to_write(row[1], row[2], row[3]), row[4],
			string.format('%s/%s/%s', tostring(row[1]), tostring(row[2]), tostring(row[3])))
	end
end)

-- Marks translated text, so the test sees that every word went through it.
local function tr(s) return '<' .. s .. '>' end

H.test('live status only from a real reply', function()
	H.eq(lb.status_line(nil, tr), nil, 'daemon absent')
	H.eq(lb.status_line(6, tr), nil, 'ubus error code')
	H.eq(lb.status_line({}, tr), nil, 'no state')
	H.eq(lb.status_line({ state = 'idle' }, tr), '<Mesh VPN state: idle>', 'idle')
	H.eq(lb.status_line({ state = 'connected', peer = { name = 'gw1' } }, tr),
		'<Mesh VPN state: connected>, <gateway gw1>', 'connected')
end)

H.run()
