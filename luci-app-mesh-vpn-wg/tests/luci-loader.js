// Test-only stand-in for the few LuCI runtime pieces present.js needs
// (String.prototype.format, baseclass, `_`, `N_`), and a loader that compiles a
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

// Translations as LuCI's cbi.js does them, keyed by text where LuCI hashes
// it: _() looks the msgid up, N_() the singular + U+0002 + the form index
// that the catalogue's Plural-Forms rule gives. Without a catalogue: English.
function translator(po) {
	const tr = po ? readPo(po) : {};
	const rule = new Function('n', `${tr['00000000'] || 'plural=(n != 1);'} return +plural;`);
	return {
		_: (s) => tr[s] || s,
		N_: (n, s, p) => {
			const i = +rule(n);
			return tr[`${s}\u0002${i}`] || (i ? p : s);
		},
	};
}

// A .po file (single-line strings, as the app's files are) in that layout.
function readPo(file) {
	const tr = {}, text = fs.readFileSync(file, 'utf8');
	const unpo = (s) => JSON.parse(`"${s}"`);
	const rule = /Plural-Forms:[^;]*;\s*(plural=[^;]*;)/.exec(text);
	if (rule)
		tr['00000000'] = rule[1];
	for (const m of text.matchAll(/^msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"$/gm))
		if (m[1] && m[2])
			tr[unpo(m[1])] = unpo(m[2]);
	const plural = /^msgid "((?:[^"\\]|\\.)*)"\nmsgid_plural "(?:[^"\\]|\\.)*"\n((?:msgstr\[\d\] ".*"\n?)+)/gm;
	for (const m of text.matchAll(plural))
		for (const f of m[2].matchAll(/^msgstr\[(\d)\] "(.*)"$/gm))
			if (f[2])
				tr[`${unpo(m[1])}\u0002${f[1]}`] = unpo(f[2]);
	return tr;
}

// `po`: a catalogue to translate with (e.g. po/de/mesh-vpn-wg.po), or none.
function loadClass(relative, po) {
	if (!String.prototype.format)
		Object.defineProperty(String.prototype, 'format', { value: format, configurable: true });
	const source = fs.readFileSync(path.join(RESOURCES, relative), 'utf8');
	const requires = [...source.matchAll(/^'require ([^' ]+)(?: as (\w+))?';$/gm)].map((m) => m[2] || m[1]);
	if (requires.join() !== 'baseclass')
		throw new Error(`${relative} requires ${requires.join()}; this loader only offers baseclass`);
	const { _, N_ } = translator(po);
	const factory = new Function('window', 'document', 'L', 'baseclass', '_', 'N_', source);
	const Class = factory({}, {}, {}, baseclass, _, N_);
	return new Class();
}

module.exports = { loadClass, format };
