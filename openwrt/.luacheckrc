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

-- gluon-web: only what the real environments hold (tests/api/): controllers
-- get the dispatcher's names, models and wizard steps the model classes and
-- the page's i18n (gluon-web-model's gluon/web/model.lua).
files['**/luasrc/lib/gluon/config-mode/controller/**'] = {
	read_globals = { 'package', 'node', 'entry', 'alias', 'call', 'template', 'model', '_' },
}
local model_env = {
	'Form', 'Section', 'Value', 'Flag', 'ListValue', 'MultiListValue', 'DynamicList', 'TextValue',
	'Element', 'Template', 'i18n', 'translate', 'translatef',
}
files['**/luasrc/lib/gluon/config-mode/model/**'] = { read_globals = model_env }
files['**/luasrc/lib/gluon/config-mode/wizard/**'] = { read_globals = model_env }

-- Fixture sites keep one peer per line, like a site.conf.
files['**/tests/fixtures/**'] = { max_line_length = false }
