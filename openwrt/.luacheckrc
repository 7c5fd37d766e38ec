-- luacheck configuration for the Lua under openwrt/ (Gluon runs Lua 5.1).
std = 'lua51'
codes = true
-- As in Gluon's own .luacheckrc: methods need not use self.
self = false
max_line_length = 120

-- Gluon's check_site runner provides these to every check_site.lua.
files['**/check_site.lua'] = {
	read_globals = {
		'alternatives', 'extend', 'in_domain', 'in_site', 'need', 'need_alphanumeric_key',
		'need_array', 'need_array_of', 'need_boolean', 'need_chanlist', 'need_domain_name',
		'need_number', 'need_one_of', 'need_string', 'need_string_array',
		'need_string_array_match', 'need_string_match', 'need_table', 'need_value',
		'obsolete', 'table_keys', 'this_domain',
	},
}

-- gluon-web: config-mode wizard pages, models and controllers.
local gluon_web = {
	'DynamicList', 'Element', 'Flag', 'Form', 'ListValue', 'Section', 'Template',
	'TextValue', 'Value', 'alias', 'call', 'entry', 'http', 'i18n', 'model', 'node',
	'pgettext', 'renderer', 'template', 'translate', 'translatef', '_translate', '_',
}
files['**/luasrc/lib/gluon/config-mode/**'] = { read_globals = gluon_web }
files['**/luasrc/lib/gluon/web/**'] = { read_globals = gluon_web }

-- Fixture sites keep one peer per line, like a site.conf.
files['**/tests/fixtures/**'] = { max_line_length = false }
