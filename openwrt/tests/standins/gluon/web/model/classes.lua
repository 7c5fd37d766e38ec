-- TEST STAND-IN for gluon-web's model classes (not the real ones), written
-- from GLUON package/gluon-web-model/luasrc/usr/lib/lua/gluon/web/model/
-- classes.lua: the same parse (form values by id, Flag = "field present"),
-- depends resolution, validation and handle (write(data) for every valid
-- option, then Form:write()). Exports only the classes the pages use, all in
-- tests/api/gluon-lua-api.json ("gluon.web.model classes"). Datatypes are
-- left out: a page that sets one fails here instead of passing untested.

local FORM_NODATA, FORM_VALID, FORM_INVALID = 0, 1, -1

local function class(base)
	local c = setmetatable({}, {
		__index = base,
		__call = function(cls, ...)
			local obj = setmetatable({}, { __index = cls })
			obj:__init__(...)
			return obj
		end,
	})
	c.__base = base
	return c
end

local function instanceof(obj, cls)
	local mt = type(obj) == 'table' and getmetatable(obj)
	local c = mt and mt.__index
	while c do
		if c == cls then
			return true
		end
		c = c.__base
	end
	return false
end

local Node = class()

function Node:__init__(name, title, description)
	self.children, self.deps = {}, {}
	self.title, self.description, self.name = title or '', description or '', name
end

function Node:append(obj)
	table.insert(self.children, obj)
	obj.index, obj.parent = #self.children, self
end

function Node:id()
	local prefix = self.parent and self.parent:id() or 'id'
	return prefix .. '.' .. (self.name or (self.index and tostring(self.index)) or '_')
end

function Node:reset()
	for _, child in ipairs(self.children) do child:reset() end
end

function Node:parse(http)
	for _, child in ipairs(self.children) do child:parse(http) end
end

function Node:depends(field, value)
	table.insert(self.deps, instanceof(field, Node) and { [field] = value } or field)
end

function Node:resolve_node_depends()
	if #self.deps == 0 then
		return false
	end
	for _, d in ipairs(self.deps) do
		local valid = true
		for k, v in pairs(d) do
			if k.state ~= FORM_VALID or k.data ~= v then
				valid = false
			end
		end
		if valid then return false end
	end
	self:reset()
	return true
end

function Node:resolve_depends()
	local updated = self:resolve_node_depends()
	for _, node in ipairs(self.children) do
		updated = node:resolve_depends() or updated
	end
	return updated
end

function Node:handle()
	for _, node in ipairs(self.children) do node:handle() end
end

local Template = class(Node)
function Template:__init__(template)
	Node.__init__(self)
	self.template = template
end

local AbstractValue = class(Node)

function AbstractValue:__init__(...)
	Node.__init__(self, ...)
	self.optional, self.state = false, FORM_NODATA
end

function AbstractValue:formvalue(http) return http:formvalue(self:id()) end

function AbstractValue:cfgvalue()
	if self.state == FORM_NODATA then return self.default end
	return self.data
end

function AbstractValue:reset()
	self.error, self.data, self.state = nil, nil, FORM_NODATA
end

function AbstractValue:validate()
	assert(self.datatype == nil, 'datatypes are not modelled by this stand-in')
	if self.data == '' then self.data = nil end
	if self.data == nil then return self.optional end
	return true
end

function AbstractValue:parse(http)
	self.data = self:formvalue(http)
	if not self:validate() then
		self.error, self.state = 'invalid', FORM_INVALID
		return
	end
	self.state = FORM_VALID
end

function AbstractValue:resolve_node_depends()
	if self.state == FORM_NODATA then return false end
	return Node.resolve_node_depends(self)
end

function AbstractValue:handle()
	if self.state == FORM_VALID then self:write(self.data) end
end

function AbstractValue:write() end

local Value = class(AbstractValue)

local Flag = class(AbstractValue)
function Flag:__init__(...)
	AbstractValue.__init__(self, ...)
	self.default = false
end
function Flag:formvalue(http) return http:formvalue(self:id()) ~= nil end
function Flag:validate() return true end

local ListValue = class(AbstractValue)
function ListValue:__init__(...)
	AbstractValue.__init__(self, ...)
	self.keys, self.entry_list = {}, {}
end
function ListValue:value(key, val)
	key = tostring(key)
	if self.keys[key] then return end
	self.keys[key] = true
	table.insert(self.entry_list, { key = key, value = tostring(val or key) })
end
function ListValue:validate()
	if self.keys[self.data] then return true end
	if self.data == '' then self.data = nil end
	if self.data == nil then return self.optional end
	return false
end

local Section = class(Node)
function Section:__init__(title, description, name)
	Node.__init__(self, name, title, description)
end
function Section:option(t, ...)
	assert(instanceof(t, AbstractValue), 'class must be a descendant of AbstractValue')
	local obj = t(...)
	self:append(obj)
	return obj
end

local Form = class(Node)
function Form:__init__(title, description, name)
	Node.__init__(self, name, title, description)
end

function Form:submitstate(http)
	return http:getenv('REQUEST_METHOD') == 'POST' and http:formvalue(self:id()) ~= nil
end

function Form:parse(http)
	if not self:submitstate(http) then
		self.state = FORM_NODATA
		return
	end
	Node.parse(self, http)
	while self:resolve_depends() do end
	for _, s in ipairs(self.children) do
		for _, v in ipairs(s.children) do
			if v.state == FORM_INVALID then
				self.state = FORM_INVALID
				return
			end
		end
	end
	self.state = FORM_VALID
end

function Form:handle()
	if self.state == FORM_VALID then
		Node.handle(self)
		self:write()
	end
end

function Form:write() end

function Form:section(t, ...)
	assert(t == Section, 'class must be a descendent of Section')
	local obj = t(...)
	self:append(obj)
	return obj
end

return { Form = Form, Section = Section, Value = Value, Flag = Flag, ListValue = ListValue, Template = Template }
