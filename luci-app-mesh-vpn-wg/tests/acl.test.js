// The rpcd ACL grants exactly what the view calls (reads for status, writes
// for the two changing methods), the menu entry depends on that group, and
// the file matches the daemon package's copy in rpcd-acl/ when present.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const APP = path.join(__dirname, '..');
const GROUP = 'luci-app-mesh-vpn-wg';
const aclFile = path.join(APP, 'root/usr/share/rpcd/acl.d/luci-app-mesh-vpn-wg.json');
const acl = JSON.parse(fs.readFileSync(aclFile, 'utf8'));
const view = fs.readFileSync(path.join(APP, 'htdocs/luci-static/resources/view/mesh-vpn-wg/status.js'), 'utf8');

// object/method pairs of every rpc.declare in the view.
const declared = [...view.matchAll(/rpc\.declare\(\{\s*object:\s*'([^']+)',\s*method:\s*'([^']+)'/g)]
	.map((m) => `${m[1]}/${m[2]}`).sort();

const granted = (level) => Object.entries(acl[GROUP][level].ubus)
	.flatMap(([object, methods]) => methods.map((m) => `${object}/${m}`)).sort();

test('the view calls status, reconnect and set_loadbalancing', () => {
	assert.deepEqual(declared, ['mesh_vpn/reconnect', 'mesh_vpn/set_loadbalancing', 'mesh_vpn/status']);
});

test('read grants status only; write grants the changing methods', () => {
	assert.deepEqual(granted('read'), ['mesh_vpn/status']);
	assert.deepEqual(granted('write'), ['mesh_vpn/reconnect', 'mesh_vpn/set_loadbalancing']);
	assert.deepEqual([...granted('read'), ...granted('write')].sort(), declared);
	// No UCI read: `wireguard` holds the node's private key (rpcd's `uci get` would hand it out).
	assert.equal(acl[GROUP].read.uci, undefined);
	// Writing UCI is not granted: every change goes through the daemon, which checks the site's policy.
	assert.equal(acl[GROUP].write.uci, undefined);
});

test('the menu entry opens the view and depends on the ACL group', () => {
	const menu = JSON.parse(fs.readFileSync(path.join(APP, 'root/usr/share/luci/menu.d/luci-app-mesh-vpn-wg.json'), 'utf8'));
	const entry = menu['admin/status/mesh-vpn-wg'];
	assert.equal(entry.action.type, 'view');
	assert.ok(fs.existsSync(path.join(APP, 'htdocs/luci-static/resources/view', `${entry.action.path}.js`)));
	assert.deepEqual(entry.depends.acl, [GROUP]);
});

test('same content as the daemon package\'s rpcd-acl/', (t) => {
	const dir = path.join(APP, '..', 'rpcd-acl');
	const copies = fs.existsSync(dir)
		? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f))
			.filter((f) => GROUP in JSON.parse(fs.readFileSync(f, 'utf8')))
		: [];
	if (copies.length === 0) {
		console.error(`SKIP: no rpcd-acl/*.json with group ${GROUP} in this tree yet`);
		t.skip('rpcd-acl/ not present');
		return;
	}
	for (const copy of copies)
		assert.deepEqual(JSON.parse(fs.readFileSync(copy, 'utf8'))[GROUP], acl[GROUP], copy);
});
