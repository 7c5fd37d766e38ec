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

// The page needs no UCI grant (issue 14 may drop it from the ACL): it reads and
// changes everything through the daemon's `mesh_vpn` object.
test('the view talks to mesh_vpn only, never to uci', () => {
	const source = fs.readFileSync(path.join(RESOURCES, 'view/mesh-vpn-wg/status.js'), 'utf8');
	const objects = [...source.matchAll(/object:\s*'([^']+)'/g)].map((m) => m[1]);
	assert.ok(objects.length > 0, 'no rpc.declare found');
	assert.deepEqual([...new Set(objects)], ['mesh_vpn']);
	assert.ok(!requires(path.join(RESOURCES, 'view/mesh-vpn-wg/status.js')).includes('uci'), 'requires uci');
});
