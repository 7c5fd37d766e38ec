// The view must run unchanged on a router: it may only require LuCI's
// public classes and the app's own module, and reach the daemon only
// through rpc.declare (no raw HTTP that the stand-in alone would serve).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const RESOURCES = path.join(__dirname, '..', 'htdocs', 'luci-static', 'resources');
const PUBLIC_LUCI = new Set(['baseclass', 'view', 'rpc', 'poll', 'ui', 'dom', 'form', 'uci', 'request', 'fs', 'network']);
const OWN = new Set(['mesh-vpn-wg.present']);

function requires(file) {
	return [...fs.readFileSync(file, 'utf8').matchAll(/^'require ([^' ]+)(?: as \w+)?';$/gm)].map((m) => m[1]);
}

for (const rel of ['view/mesh-vpn-wg/status.js', 'mesh-vpn-wg/present.js']) {
	const file = path.join(RESOURCES, rel);

	test(`${rel} requires only public LuCI classes and the app's module`, () => {
		const names = requires(file);
		assert.ok(names.length > 0, 'no require directives found');
		for (const name of names)
			assert.ok(PUBLIC_LUCI.has(name) || OWN.has(name), `requires ${name}`);
		for (const own of names.filter((n) => OWN.has(n)))
			assert.ok(fs.existsSync(path.join(RESOURCES, `${own.replace(/\./g, '/')}.js`)), `${own} missing`);
	});

	test(`${rel} makes no raw HTTP requests`, () => {
		const source = fs.readFileSync(file, 'utf8');
		for (const raw of ['fetch(', 'XMLHttpRequest', '/ubus', 'standin'])
			assert.ok(!source.includes(raw), `uses ${raw}`);
	});
}
