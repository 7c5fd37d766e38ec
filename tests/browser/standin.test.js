// The LuCI runtime stand-in offers only names real LuCI has (luci-names.json,
// each with its LuCI source file): a name it invented would let the view pass
// here and fail in a real LuCI.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const NAMES = JSON.parse(fs.readFileSync(path.join(__dirname, 'standin', 'luci-names.json'), 'utf8'));

// luci.js run in a bare context, as a browser would run it.
function loadStandin() {
	const context = vm.createContext({ Promise, setTimeout });
	context.window = context;
	context.document = {};
	const before = new Set(Object.getOwnPropertyNames(context));
	vm.runInContext(fs.readFileSync(path.join(__dirname, 'standin', 'luci.js'), 'utf8'), context);
	const globals = Object.getOwnPropertyNames(context).filter((n) => !before.has(n));
	return { context, globals };
}

// Names a class instance offers, up to (not including) Object.prototype.
function instanceNames(obj) {
	const names = new Set();
	for (let p = obj; p && p !== Object.prototype && Object.getPrototypeOf(p); p = Object.getPrototypeOf(p))
		for (const n of Object.getOwnPropertyNames(p))
			if (n !== 'constructor')
				names.add(n);
	return [...names];
}

function unlisted(names, surface) {
	return [...names].filter((n) => !Object.hasOwn(NAMES[surface], n));
}

test('the check fails on an invented name', () => {
	assert.deepEqual(unlisted(['declare', 'handleReply'], 'rpc'), ['handleReply']);
});

test('globals, L and String.prototype', () => {
	const { context, globals } = loadStandin();
	assert.deepEqual(unlisted(globals, 'globals'), []);
	assert.deepEqual(unlisted(Object.keys(context.L), 'L'), []);
	assert.deepEqual(unlisted(Object.keys(context.L.env), 'L.env'), []);
	const format = vm.runInContext('Object.getOwnPropertyNames(String.prototype)', context)
		.filter((n) => !Object.getOwnPropertyNames(String.prototype).includes(n));
	assert.deepEqual(unlisted(format, 'String.prototype'), []);
});

test('the built-in classes', async () => {
	const { context } = loadStandin();
	for (const name of ['dom', 'rpc', 'poll', 'ui', 'baseclass']) {
		const value = await context.L.require(name);
		const names = (typeof value === 'function') ? Object.keys(value) : instanceNames(value);
		assert.ok(names.length > 0, `${name} offers nothing`);
		assert.deepEqual(unlisted(names, name), [], name);
	}
	const View = await context.L.require('view');
	assert.deepEqual(unlisted([...Object.keys(View), ...instanceNames(View.prototype)], 'view'), []);
});
