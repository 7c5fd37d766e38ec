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

		await check(`site mode ${label}: disabled, so no Reconnect is offered and the page says why`, async () => {
			const shown = await page.evaluate(`getComputedStyle(document.getElementById('mesh-vpn-wg-reconnect')).display`);
			assert(shown === 'none', `reconnect button display: ${shown}`);
			const hint = await page.evaluate(`document.getElementById('mesh-vpn-wg-reconnect-hint').textContent`);
			assert(/switched off/.test(hint), `hint: ${hint}`);
			const badge = await page.evaluate(`document.getElementById('mesh-vpn-wg-badge').className`);
			assert(badge === 'label', `badge class: ${badge}`);
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
		await check('read-only login: the state without controls that would be refused', async () => {
			await loadView(page, env.port, viewer);
			assert(await page.evaluate(`!!document.getElementById('mesh-vpn-wg-readonly')`), 'no read-only note');
			assert(await page.evaluate(`document.getElementById('mesh-vpn-wg-lb-switch').disabled`), 'switch enabled');
			assert(!(await page.evaluate(`!!document.getElementById('mesh-vpn-wg-reconnect')`)), 'reconnect offered');
			// A disabled box takes no click; a forged change event must not send a call either.
			await page.evaluate(`document.getElementById('mesh-vpn-wg-lb-switch').dispatchEvent(new Event('change'))`);
			await new Promise((r) => setTimeout(r, 500));
			assert(!(await page.evaluate(`!!document.querySelector('.notification')`)), 'a call was sent and refused');
			assert(uciOverride(daemon.root) === null, 'UCI file got an override');
			await page.screenshot(path.join(artifacts, 'luci-read-only.png'));
		});
	} finally {
		await stop(daemon.handle);
	}
}

// Admin, owner may choose: focus on the switch survives a poll; a failed
// call gives one banner with a severity, not a box inside a banner.
async function pollAndBanner(page, rpc, env) {
	const daemon = await startDaemon(env.tmp, env.socket, rpc, env.sid, 'off-by-default');
	let stopped = false;
	try {
		await check('a poll updates values in place: keyboard focus on the switch survives', async () => {
			await loadView(page, env.port, env.sid);
			await page.evaluate(`document.getElementById('mesh-vpn-wg-lb-switch').focus()`);
			const polls = await page.evaluate(`+document.getElementById('mesh-vpn-wg').getAttribute('data-polls')`);
			await page.waitFor(`+document.getElementById('mesh-vpn-wg').getAttribute('data-polls') > ${polls}`, 'a poll');
			const focused = await page.evaluate(`document.activeElement && document.activeElement.id`);
			assert(focused === 'mesh-vpn-wg-lb-switch', `focus is on ${JSON.stringify(focused)}`);
		});
		await check('a failed call shows one banner with a severity', async () => {
			await loadView(page, env.port, env.sid);
			await stop(daemon.handle);
			stopped = true;
			await page.click('#mesh-vpn-wg-lb-switch');
			await page.waitFor(`!!document.querySelector('.notification [data-failure]')`, 'the failure banner');
			const nested = await page.evaluate(`document.querySelectorAll('.alert-message .alert-message').length`);
			assert(nested === 0, `${nested} banner(s) inside a banner`);
			const classes = await page.evaluate(`document.querySelector('.notification').className`);
			assert(/\b(warning|danger)\b/.test(classes), `banner classes: ${classes}`);
			await page.screenshot(path.join(artifacts, 'luci-failure-banner.png'));
		});
	} finally {
		if (!stopped)
			await stop(daemon.handle);
	}
}

async function germanPlurals(page, rpc, env) {
	const daemon = await startDaemon(env.tmp, env.socket, rpc, env.sid, 'on-by-default');
	try {
		await check('German: the page in German, plural forms from N_ (vor 1 Tag, vor 2 Tagen)', async () => {
			await page.navigate(`http://127.0.0.1:${env.port}/?sid=${env.sid}&lang=de&view=mesh-vpn-wg/status`);
			await page.waitFor(`document.getElementById('mesh-vpn-wg')?.getAttribute('data-state') === 'disabled'`, 'the German view');
			const badge = await page.evaluate(`document.getElementById('mesh-vpn-wg-badge').textContent`);
			assert(badge === 'aus', `badge: ${badge}`);
			await page.evaluate(`L.require('mesh-vpn-wg.present').then((p) => { window.AGES = [p.age(86400), p.age(2 * 86400), p.age(60)]; })`);
			await page.waitFor('!!window.AGES', 'the ages');
			const ages = await page.evaluate('JSON.stringify(window.AGES)');
			assert(ages === JSON.stringify(['vor 1 Tag', 'vor 2 Tagen', 'vor 1 Minute']), `ages: ${ages}`);
			await page.screenshot(path.join(artifacts, 'luci-german.png'));
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
			'--htdocs', path.join(APP, 'htdocs'), '--standin', path.join(HERE, 'standin'), '--po', path.join(APP, 'po')],
			{ ready: /listening on (\d+)/ });
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
		await pollAndBanner(page, rpc, env);
		await germanPlurals(page, rpc, env);
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
