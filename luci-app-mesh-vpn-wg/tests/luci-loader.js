// Test-only stand-in for the few LuCI runtime pieces present.js needs
// (String.prototype.format, baseclass, `_`), and a loader that compiles a
// class file the way luci.js does: its source as the body of
// function(window, document, L, <required classes>), the returned class
// instantiated once. Not LuCI itself, which is in no package registry.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const RESOURCES = path.join(__dirname, '..', 'htdocs', 'luci-static', 'resources');

// LuCI's String.prototype.format, reduced to the conversions the app uses.
function format(...args) {
	let i = 0;
	return String(this).replace(/%(%|(?:\.(\d+))?([sdf]))/g, (whole, spec, precision, type) => {
		if (spec === '%')
			return '%';
		const value = args[i++];
		if (type === 'd')
			return Math.floor(+value || 0).toFixed(0);
		if (type === 'f')
			return precision != null ? (+value || 0).toFixed(+precision) : String(+value || 0);
		return value == null ? '' : String(value);
	});
}

const baseclass = {
	extend(properties) {
		const Class = function () {};
		Object.assign(Class.prototype, properties);
		return Class;
	},
};

// Translation: identity, like LuCI with no catalogue loaded.
const translate = (text) => text;

function loadClass(relative) {
	if (!String.prototype.format)
		Object.defineProperty(String.prototype, 'format', { value: format, configurable: true });
	const source = fs.readFileSync(path.join(RESOURCES, relative), 'utf8');
	const requires = [...source.matchAll(/^'require ([^' ]+)(?: as (\w+))?';$/gm)].map((m) => m[2] || m[1]);
	if (requires.join() !== 'baseclass')
		throw new Error(`${relative} requires ${requires.join()}; this loader only offers baseclass`);
	const factory = new Function('window', 'document', 'L', 'baseclass', '_', source);
	const Class = factory({}, {}, {}, baseclass, translate);
	return new Class();
}

module.exports = { loadClass, format };
