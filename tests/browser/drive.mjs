// Browser test of luci-app-mesh-vpn-wg: headless Chromium loads the
// unchanged view through the LuCI runtime stand-in, against the real daemon
// on the test ubusd behind the uhttpd /ubus stand-in. For each site mode it
// checks the switch, toggles loadbalancing (or sees the refusal), checks the
// UCI file, reconnects, and writes a screenshot to the artifacts directory.
//
// usage: node drive.mjs <bin dir with mesh-vpn-wg and test-ubusd> <artifacts dir>
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Page } from './cdp.mjs';
import { CHROMIUM_FLAGS, nodeTree, start, stop, stopAll, uciOverride, waitForFile } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP = path.join(HERE, '..', '..', 'luci-app-mesh-vpn-wg');
const [binDir, artifacts] = process.argv.slice(2);

// Site mode, whether the owner may change it, effective value without override (domain.md 4.6).
const MODES = [
	{ mode: 'on', changeable: false, effective: true },
	{ mode: 'off', changeable: false, effective: false },
	{ mode: 'on-by-default', changeable: true, effective: true },
	{ mode: 'off-by-default', changeable: true, effective: false },
	{ mode: null, changeable: false, effective: false },
];

let passed = 0, failed = 0;
async function check(name, fn) {
	try {
		await fn();
		passed++;
		console.log(`ok - ${name}`);
	} catch (e) {
		failed++;
		console.log(`not ok - ${name}: ${e.message}`);
	}
}

function assert(condition, message) {
	if (!condition)
		throw new Error(message);
}

async function eventually(fn, what, timeoutMs = 10000) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (fn())
			return;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`timed out waiting for ${what}`);
}

class Rpc {
	constructor(port) {
		this.url = `http://127.0.0.1:${port}/ubus`;
		this.id = 1;
	}

	async call(sid, object, method, args = {}) {
		const body = { jsonrpc: '2.0', id: this.id++, method: 'call', params: [sid, object, method, args] };
		const res = await fetch(this.url, { method: 'POST', body: JSON.stringify(body) });
		return res.json();
	}

	async login(username) {
		const reply = await this.call('0'.repeat(32), 'session', 'login', { username, password: 'labpass' });
		assert(reply.result?.[0] === 0, `login as ${username}: ${JSON.stringify(reply)}`);
		return reply.result[1].ubus_rpc_session;
	}
}

async function startDaemon(tmp, socket, rpc, sid, mode) {
	const root = nodeTree(path.join(tmp, `node-${mode ?? 'absent'}`), mode);
	const { handle } = await start('daemon', path.join(binDir, 'mesh-vpn-wg'),
		['--root', root, 'daemon', '--foreground', '--ubus-socket', socket],
		{ ready: /mesh_vpn registered/, logFile: path.join(tmp, `daemon-${mode ?? 'absent'}.log`) });
	const reply = await rpc.call(sid, 'mesh_vpn', 'status');
	assert(reply.result?.[0] === 0, `status through the stand-in: ${JSON.stringify(reply)}`);
	return { handle, root };
}

const pageUrl = (port, sid) => `http://127.0.0.1:${port}/?sid=${sid}&view=mesh-vpn-wg/status`;
const switchChecked = `document.getElementById('mesh-vpn-wg-lb-switch')?.checked`;

async function loadView(page, port, sid) {
	await page.navigate(pageUrl(port, sid));
	return page.waitFor(`document.getElementById('mesh-vpn-wg')?.getAttribute('data-state')`, 'the rendered view');
}

async function siteMode(page, rpc, env, { mode, changeable, effective }) {
	const label = mode ?? 'absent';
	const daemon = await startDaemon(env.tmp, env.socket, rpc, env.sid, mode);
	try {
		await check(`site mode ${label}: status rendered, switch ${changeable ? 'offered' : 'withheld'}`, async () => {
			assert(await loadView(page, env.port, env.sid) === 'disabled', 'state is not "disabled"');
			const hasSwitch = await page.evaluate(`!!document.getElementById('mesh-vpn-wg-lb-switch')`);
			assert(hasSwitch === changeable, `switch present: ${hasSwitch}`);
			const summary = await page.evaluate(`document.getElementById('mesh-vpn-wg-lb-summary').textContent`);
			assert(summary.startsWith(effective ? 'On:' : 'Off:'), `summary: ${summary}`);
			if (changeable)
				assert(await page.evaluate(switchChecked) === effective, 'switch does not show the site default');
			await page.screenshot(path.join(artifacts, `luci-site-${label}.png`));
		});

		if (changeable)
			await check(`site mode ${label}: toggling writes the override and back`, async () => {
				await page.click('#mesh-vpn-wg-lb-switch');
				await eventually(() => uciOverride(daemon.root) === (effective ? '0' : '1'), 'the override in UCI');
				await page.waitFor(`${switchChecked} === ${!effective} && document.getElementById('mesh-vpn-wg-lb-reason').textContent.startsWith('You chose this')`, 'the page showing the change');
				await page.screenshot(path.join(artifacts, `luci-site-${label}-toggled.png`));
				await page.click('#mesh-vpn-wg-lb-switch');
				await eventually(() => uciOverride(daemon.root) === (effective ? '1' : '0'), 'the override back in UCI');
				await page.waitFor(`${switchChecked} === ${effective}`, 'the switch back');
			});
		else
			await check(`site mode ${label}: set_loadbalancing is refused with ubus status 6, UCI untouched`, async () => {
				const reply = await rpc.call(env.sid, 'mesh_vpn', 'set_loadbalancing', { enabled: !effective });
				assert(JSON.stringify(reply.result) === '[6]', `reply: ${JSON.stringify(reply)}`);
				assert(uciOverride(daemon.root) === null, 'UCI file got an override');
			});

		await check(`site mode ${label}: reconnect button is accepted`, async () => {
			await page.click('#mesh-vpn-wg-reconnect');
			await page.waitFor(`!!document.querySelector('[data-reconnect=accepted]')`, 'the reconnect notice');
		});
	} finally {
		await stop(daemon.handle);
	}
}

async function daemonAbsent(page, env) {
	await check('daemon absent: a message, not a broken page', async () => {
		assert(await loadView(page, env.port, env.sid) === 'failure', 'view did not report a failure');
		const text = await page.evaluate(`document.querySelector('[data-failure=absent]')?.textContent`);
		assert(/not running/.test(text ?? ''), `message: ${text}`);
		await page.screenshot(path.join(artifacts, 'luci-daemon-absent.png'));
	});
}

async function readOnlyLogin(page, rpc, env) {
	const viewer = await rpc.login('viewer');
	const daemon = await startDaemon(env.tmp, env.socket, rpc, viewer, 'off-by-default');
	try {
		await check('read-only login: the ACL denies the switch, the page says so', async () => {
			await loadView(page, env.port, viewer);
			await page.click('#mesh-vpn-wg-lb-switch');
			await page.waitFor(`document.querySelector('.notification [data-failure=denied]')?.textContent.includes('Access denied')`, 'the access denied message');
			assert(uciOverride(daemon.root) === null, 'UCI file got an override');
			await page.screenshot(path.join(artifacts, 'luci-access-denied.png'));
		});
	} finally {
		await stop(daemon.handle);
	}
}

async function main() {
	mkdirSync(artifacts, { recursive: true });
	const tmp = mkdtempSync(path.join(tmpdir(), 'mesh-vpn-wg-browser-'));
	try {
		const socket = path.join(tmp, 'ubus.sock');
		await start('test-ubusd', path.join(binDir, 'test-ubusd'), [socket]);
		await waitForFile(socket, 'the test ubusd socket');
		const server = await start('uhttpd stand-in', 'python3', [path.join(HERE, 'uhttpd_standin.py'),
			'--socket', socket, '--acl', path.join(APP, 'root/usr/share/rpcd/acl.d/luci-app-mesh-vpn-wg.json'),
			'--htdocs', path.join(APP, 'htdocs'), '--standin', path.join(HERE, 'standin')], { ready: /listening on (\d+)/ });
		const port = server.match[1];
		const chromium = await start('chromium', process.env.CHROMIUM ?? 'chromium', [...CHROMIUM_FLAGS,
			`--user-data-dir=${path.join(tmp, 'chromium-profile')}`, '--remote-debugging-port=0',
			'--window-size=1000,900', 'about:blank'], { ready: /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\// });
		const page = await Page.attach(chromium.match[1]);
		const rpc = new Rpc(port);
		const env = { tmp, socket, port, sid: await rpc.login('admin') };

		for (const mode of MODES)
			await siteMode(page, rpc, env, mode);
		await daemonAbsent(page, env);
		await readOnlyLogin(page, rpc, env);
		page.close();
	} catch (e) {
		failed++;
		console.log(`not ok - browser test setup: ${e.message}`);
	} finally {
		await stopAll();
		rmSync(tmp, { recursive: true, force: true });
	}
	console.log(`${passed} passed, ${failed} failed`);
	process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

await main();
