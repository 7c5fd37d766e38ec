// Every string the LuCI page and the Gluon page translate is in the
// template and has a German and a French translation with the same
// placeholders; no stale entries.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const APP = path.join(__dirname, '..');
const GLUON = path.join(APP, '..', 'openwrt', 'gluon-config-mode');

function unquote(text, quote) {
	return text.replace(new RegExp('\\\\' + quote, 'g'), quote);
}

const STR = '"((?:[^"\\\\]|\\\\.)*)"';
const unpo = (s) => JSON.parse(`"${s}"`);

// msgid -> msgstr of a .po/.pot file (single-line entries, as these files
// use); a plural entry is keyed "singular\u0002plural" with its forms joined
// by "\u0002".
function catalogue(file) {
	const entries = new Map();
	const text = fs.readFileSync(file, 'utf8');
	for (const m of text.matchAll(new RegExp(`^msgid ${STR}\\nmsgstr ${STR}$`, 'gm')))
		if (m[1] !== '')
			entries.set(unpo(m[1]), unpo(m[2]));
	const plural = new RegExp(`^msgid ${STR}\\nmsgid_plural ${STR}\\n((?:msgstr\\[\\d\\] ${STR}\\n?)+)`, 'gm');
	for (const m of text.matchAll(plural)) {
		const forms = [...m[3].matchAll(new RegExp(`^msgstr\\[\\d\\] ${STR}`, 'gm'))].map((f) => unpo(f[1]));
		entries.set(`${unpo(m[1])}\u0002${unpo(m[2])}`, forms.every((f) => f) ? forms.join('\u0002') : '');
	}
	return entries;
}

function sourceStrings(files, pattern, quote) {
	const found = new Set();
	for (const file of files)
		for (const m of fs.readFileSync(file, 'utf8').matchAll(pattern))
			found.add(unquote(m[1], quote));
	return found;
}

function walk(dir, suffix) {
	return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
		.filter((e) => e.isFile() && e.name.endsWith(suffix))
		.map((e) => path.join(e.parentPath ?? e.path, e.name));
}

const placeholders = (s) => (s.match(/%[sd]/g) || []).join();

function checkPackage(name, used, template, translations) {
	test(`${name}: template matches the sources`, () => {
		assert.deepEqual([...catalogue(template).keys()].sort(), [...used].sort());
	});
	for (const [lang, file] of Object.entries(translations))
		test(`${name}: ${lang} translates every string with the same placeholders`, () => {
			const po = catalogue(file);
			for (const id of used) {
				assert.ok(po.get(id), `${lang} lacks "${id}"`);
				assert.equal(placeholders(po.get(id)), placeholders(id), `${lang} "${id}"`);
			}
		});
}

const luciSources = walk(path.join(APP, 'htdocs'), '.js');
const luciUsed = sourceStrings(luciSources, /\b_\('((?:[^'\\]|\\.)*)'\)/g, "'");
// N_(n, 'singular', 'plural'): one entry with both.
for (const file of luciSources)
	for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bN_\([^,]+,\s*'((?:[^'\\]|\\.)*)',\s*'((?:[^'\\]|\\.)*)'\)/g))
		luciUsed.add(`${unquote(m[1], "'")}\u0002${unquote(m[2], "'")}`);
luciUsed.add('Mesh VPN'); // the menu title in menu.d
checkPackage('luci-app-mesh-vpn-wg', luciUsed, path.join(APP, 'po/templates/mesh-vpn-wg.pot'), {
	de: path.join(APP, 'po/de/mesh-vpn-wg.po'),
	fr: path.join(APP, 'po/fr/mesh-vpn-wg.po'),
});

// Lua: translate('…') and _("…"); the long model text is joined with `..`.
const luaFiles = walk(path.join(GLUON, 'luasrc'), '.lua');
const gluonUsed = sourceStrings(luaFiles, /\b(?:translate|_)\('((?:[^'\\]|\\.)*)'\)/g, "'");
for (const s of sourceStrings(luaFiles, /\b(?:translate|_)\("((?:[^"\\]|\\.)*)"\)/g, '"'))
	gluonUsed.add(s);
for (const file of luaFiles)
	for (const m of fs.readFileSync(file, 'utf8').matchAll(/translate\(\s*((?:'(?:[^'\\]|\\.)*'\s*(?:\.\.\s*)?)+)\)/g))
		gluonUsed.add([...m[1].matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((p) => unquote(p[1], "'")).join(''));
checkPackage('gluon-web-mesh-vpn-wg', gluonUsed, path.join(GLUON, 'i18n/gluon-web-mesh-vpn-wg.pot'), {
	de: path.join(GLUON, 'i18n/de.po'),
	fr: path.join(GLUON, 'i18n/fr.po'),
});
