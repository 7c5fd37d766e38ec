// The processes of the browser test (test ubusd, daemon, uhttpd stand-in,
// chromium) and the Gluon node trees the daemon runs on. Every process is
// started in its own group and ended by that group's id.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const started = [];

export const CHROMIUM_FLAGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Starts a process; `ready` matches a line of its output and resolves with the match.
export function start(name, command, args, { ready, logFile } = {}) {
	const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	const handle = { name, child, log: '' };
	started.push(handle);
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${name} not ready after 20 s:\n${handle.log}`)), 20000);
		const onData = (chunk) => {
			handle.log += chunk;
			if (logFile)
				writeFileSync(logFile, handle.log);
			const m = ready && handle.log.match(ready);
			if (m) {
				clearTimeout(timer);
				resolve({ handle, match: m });
			}
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`${name} exited with ${code}:\n${handle.log}`));
		});
		if (!ready) {
			clearTimeout(timer);
			resolve({ handle });
		}
	});
}

export async function stop(handle) {
	if (handle.child.exitCode !== null || handle.child.signalCode !== null)
		return;
	const exited = new Promise((r) => handle.child.once('exit', r));
	try {
		process.kill(-handle.child.pid, 'SIGTERM');
	} catch {
		return;
	}
	await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
}

export async function stopAll() {
	for (const handle of started.reverse())
		await stop(handle);
}

export async function waitForFile(file, what) {
	for (let i = 0; i < 100 && !existsSync(file); i++)
		await new Promise((r) => setTimeout(r, 50));
	if (!existsSync(file))
		throw new Error(`${what} did not appear at ${file}`);
}

const SEED = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const PRIVATE_KEY = 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=';
const PEERS = [
	{ publickey: 'TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=', endpoint: 'gw1.example.net:40011', link_address: 'fe80::27c:16ff:fec0:6c74' },
	{ publickey: 'igyqOmWiz4EZxPG8ZzU537MnHhaqlwfa7HarB3KmnEg=', endpoint: '[2001:db8::2]:40012', link_address: 'fe80::281:8eff:fef0:73aa' },
];

function put(root, rel, text) {
	const file = path.join(root, rel);
	mkdirSync(path.dirname(file), { recursive: true });
	writeFileSync(file, text);
}

// A single-domain node like tests/common/mod.rs builds, with the VPN
// disabled in UCI so the daemon leaves the host network alone.
export function nodeTree(root, siteMode) {
	const wireguard = { iface: 'wg_mesh_vpn', mtu: 1406, broker: 'broker.example.net', peers: PEERS };
	if (siteMode)
		wireguard.loadbalancing = siteMode;
	put(root, 'lib/gluon/site.json', JSON.stringify({ domain_seed: SEED, ntp_servers: ['ntp.example.net'], mesh_vpn: { wireguard } }));
	put(root, 'etc/config/gluon', "\nconfig core 'core'\n\toption domain 'example'\n\n");
	put(root, 'etc/config/wireguard', `\nconfig wireguard 'mesh_vpn'\n\toption enabled '0'\n\toption privatekey '${PRIVATE_KEY}'\n\n`);
	put(root, 'etc/config/system', "\nconfig timeserver 'ntp'\n\tlist server 'ntp.example.net'\n\n");
	return root;
}

// wireguard.mesh_vpn.loadbalancing as the UCI file on disk holds it, or null.
export function uciOverride(root) {
	const text = readFileSync(path.join(root, 'etc/config/wireguard'), 'utf8');
	const m = text.match(/^\toption loadbalancing '([^']*)'$/m);
	return m ? m[1] : null;
}
