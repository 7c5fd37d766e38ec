// A minimal Chrome DevTools protocol client for one page: evaluate, wait,
// click like a user (mouse events at the element's centre), screenshot.
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';

export class Page {
	static async attach(devtoolsPort) {
		const targets = await (await fetch(`http://127.0.0.1:${devtoolsPort}/json/list`)).json();
		const page = targets.find((t) => t.type === 'page');
		if (!page)
			throw new Error('chromium has no page target');
		const ws = new WebSocket(page.webSocketDebuggerUrl);
		await new Promise((resolve, reject) => {
			ws.once('open', resolve);
			ws.once('error', reject);
		});
		const self = new Page(ws);
		await self.send('Page.enable');
		await self.send('Runtime.enable');
		return self;
	}

	constructor(ws) {
		this.ws = ws;
		this.nextId = 1;
		this.pending = new Map();
		ws.on('message', (raw) => {
			const msg = JSON.parse(raw);
			const waiter = msg.id && this.pending.get(msg.id);
			if (!waiter)
				return;
			this.pending.delete(msg.id);
			if (msg.error)
				waiter.reject(new Error(`${waiter.method}: ${msg.error.message}`));
			else
				waiter.resolve(msg.result);
		});
	}

	send(method, params = {}) {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve, reject, method });
			this.ws.send(JSON.stringify({ id, method, params }));
		});
	}

	async evaluate(expression) {
		const reply = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
		if (reply.exceptionDetails)
			throw new Error(`page error in ${expression}: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}`);
		return reply.result.value;
	}

	// Polls `expression` in the page until it is truthy; returns its value.
	async waitFor(expression, what, timeoutMs = 10000) {
		const deadline = Date.now() + timeoutMs;
		let last;
		while (Date.now() < deadline) {
			last = await this.evaluate(expression).catch((e) => e.message);
			if (last && !(typeof last === 'string' && last.startsWith('page error')))
				return last;
			await new Promise((r) => setTimeout(r, 100));
		}
		throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
	}

	async navigate(url) {
		await this.send('Page.navigate', { url });
		await this.waitFor(`document.readyState === 'complete' && location.href === ${JSON.stringify(url)}`, `load of ${url}`);
	}

	async click(selector) {
		const box = await this.waitFor(`(() => {
			const el = document.querySelector(${JSON.stringify(selector)});
			if (!el || el.disabled) return null;
			el.scrollIntoView({ block: 'center' });
			const r = el.getBoundingClientRect();
			return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
		})()`, `clickable ${selector}`);
		const at = { x: box.x, y: box.y, button: 'left', clickCount: 1 };
		await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: box.x, y: box.y });
		await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...at });
		await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...at });
	}

	async screenshot(file) {
		const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
		await writeFile(file, Buffer.from(data, 'base64'));
	}

	close() {
		this.ws.close();
	}
}
