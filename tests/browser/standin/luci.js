/*
 * LuCI RUNTIME STAND-IN, FOR TESTS ONLY. Not LuCI: LuCI's luci.js, rpc.js,
 * ui.js, dom.js and poll.js are in no package registry, so this file
 * provides the few public APIs the mesh-vpn-wg view uses, with the same
 * behaviour where the view depends on it:
 *   - L.require compiles a class file like luci.js does (its source as the
 *     body of function(window, document, L, <required classes>), the returned
 *     class instantiated with `new`);
 *   - rpc.declare speaks uhttpd's /ubus JSON-RPC and settles like rpc.js
 *     (JSON-RPC errors reject with "RPC call to o/m failed with error C: M",
 *     a nonzero ubus status resolves to that number unless `reject` is set);
 *   - E()/dom.content, ui.createHandlerFn, ui.addNotification, poll.add,
 *     baseclass.extend and view.extend in their documented shape;
 *   - L.hasViewPermission() from env.nodespec, which the uhttpd stand-in
 *     computes from the session's ACL grants as LuCI's server does;
 *   - _() and N_() over window.TR, a catalogue the uhttpd stand-in builds
 *     from the app's po/<lang>/ file (LuCI compiles the same .po files).
 * Every name offered is in luci-names.json with the LuCI source file it comes
 * from; standin.test.js checks that.
 */
(function(window, document) {
	'use strict';

	String.prototype.format = function() {
		var args = arguments, i = 0;
		return String(this).replace(/%(%|(?:\.(\d+))?([sdf]))/g, function(whole, spec, precision, type) {
			if (spec === '%')
				return '%';
			var value = args[i++];
			if (type === 'd')
				return Math.floor(+value || 0).toFixed(0);
			if (type === 'f')
				return precision != null ? (+value || 0).toFixed(+precision) : String(+value || 0);
			return value == null ? '' : String(value);
		});
	};

	var baseclass = function() {};
	baseclass.extend = function(properties) {
		var Super = this;
		var Class = function() {
			if (typeof(this.__init__) === 'function')
				return this.__init__.apply(this, arguments);
		};
		Class.prototype = Object.create(Super.prototype);
		Object.assign(Class.prototype, properties);
		Class.prototype.constructor = Class;
		Class.extend = baseclass.extend;
		return Class;
	};

	var dom = {
		append: function(node, children) {
			if (children == null)
				return;
			if (Array.isArray(children))
				children.forEach(function(child) { dom.append(node, child); });
			else if (children instanceof Node)
				node.appendChild(children);
			else
				node.appendChild(document.createTextNode(String(children)));
		},
		attr: function(node, attrs) {
			Object.keys(attrs || {}).forEach(function(key) {
				var val = attrs[key];
				if (val == null)
					return;
				if (typeof(val) === 'function')
					node.addEventListener(key, val);
				else if (typeof(val) === 'object')
					node.setAttribute(key, JSON.stringify(val));
				else
					node.setAttribute(key, val);
			});
		},
		create: function(html, attrs, children) {
			var node;
			if (Array.isArray(attrs) || attrs instanceof Node || typeof(attrs) !== 'object') {
				children = attrs;
				attrs = null;
			}
			if (Array.isArray(html)) {
				node = document.createDocumentFragment();
				html.forEach(function(child) { dom.append(node, child); });
			}
			else {
				node = document.createElement(html);
				dom.attr(node, attrs);
			}
			dom.append(node, children);
			return node;
		},
		content: function(node, children) {
			while (node.firstChild)
				node.removeChild(node.firstChild);
			dom.append(node, children);
			return node;
		}
	};

	var L = {
		env: { resource: '/luci-static/resources', ubuspath: '/ubus/', sessionid: null, nodespec: null },
		/* luci.js: null = no access, false = read-only, true = write granted. */
		hasViewPermission: function() {
			var spec = L.env.nodespec;
			if (!L.isObject(spec) || !spec.satisfied)
				return null;
			return !spec.readonly;
		},
		bind: function(fn, self) {
			return Function.prototype.bind.apply(fn, [ self ].concat(Array.prototype.slice.call(arguments, 2)));
		},
		isObject: function(val) { return val != null && typeof(val) === 'object'; },
		resolveDefault: function(value, defvalue) {
			return Promise.resolve(value).catch(function() { return defvalue; });
		},
		raise: function(type, fmt) {
			var err = new Error(String(fmt).format.apply(fmt, Array.prototype.slice.call(arguments, 2)));
			err.name = type;
			throw err;
		}
	};

	var rpcRequestID = 1;

	function handleReply(req, msg) {
		if (!L.isObject(msg) || msg.jsonrpc != '2.0')
			L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', req.object, req.method);
		if (L.isObject(msg.error) && msg.error.code && msg.error.message)
			L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s',
				req.object, req.method, msg.error.code, msg.error.message);

		var ret = null;
		if (Array.isArray(msg.result)) {
			if (req.raise && msg.result[0] !== 0)
				L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d: %s',
					req.object, req.method, msg.result[0], 'ubus status ' + msg.result[0]);
			ret = (msg.result.length > 1) ? msg.result[1] : msg.result[0];
		}
		if (req.expect)
			for (var key in req.expect) {
				if (ret != null && key != '')
					ret = ret[key];
				if (ret == null || Object.prototype.toString.call(ret) != Object.prototype.toString.call(req.expect[key]))
					ret = req.expect[key];
				break;
			}
		return ret;
	}

	var rpc = baseclass.extend({
		declare: function(options) {
			return function() {
				var params = {}, args = arguments;
				(options.params || []).forEach(function(name, i) {
					if (args[i] !== undefined)
						params[name] = args[i];
				});
				var req = { object: options.object, method: options.method, raise: !!options.reject, expect: options.expect };
				var body = { jsonrpc: '2.0', id: rpcRequestID++, method: 'call',
				             params: [ L.env.sessionid, options.object, options.method, params ] };
				return window.fetch(L.env.ubuspath + '?' + options.object + '.' + options.method, {
					method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
				}).then(function(res) {
					if (!res.ok)
						L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s',
							req.object, req.method, res.status, res.statusText || '?');
					return res.json();
				}).then(function(msg) { return handleReply(req, msg); });
			};
		}
	});

	var poll = baseclass.extend({
		add: function(fn, interval) {
			var step = function() {
				Promise.resolve().then(fn).catch(function() {}).then(function() {
					window.setTimeout(step, interval * 1000);
				});
			};
			window.setTimeout(step, interval * 1000);
			return true;
		}
	});

	var ui = baseclass.extend({
		createHandlerFn: function(ctx, fn) {
			var extra = Array.prototype.slice.call(arguments, 2);
			var handler = (typeof(fn) === 'string') ? ctx[fn] : fn;
			return function(ev) {
				var button = ev.currentTarget;
				button.disabled = true;
				return Promise.resolve(handler.apply(ctx, extra.concat([ ev ]))).finally(function() {
					button.disabled = false;
				});
			};
		},
		/* ui.js: a banner of the given extra classes around `children`. */
		addNotification: function(title, children /*, ... classes */) {
			var box = dom.create('div', { 'class': 'alert-message notification' }, [
				title != null ? dom.create('h4', {}, title) : null, children ]);
			for (var i = 2; i < arguments.length; i++)
				box.classList.add(arguments[i]);
			var main = document.getElementById('maincontent');
			main.insertBefore(box, main.firstChild);
			return box;
		}
	});

	var view = baseclass.extend({
		__init__: function() {
			var vp = document.getElementById('view');
			return Promise.resolve(this.load()).then(L.bind(this.render, this)).then(function(nodes) {
				dom.content(vp, nodes);
			}).catch(function(err) {
				dom.content(vp, dom.create('pre', { 'class': 'alert-message error', 'id': 'view-error' }, String(err && err.stack || err)));
			});
		},
		load: function() {},
		render: function() {}
	});

	var builtins = { baseclass: baseclass, dom: dom, rpc: new rpc(), poll: new poll(), ui: new ui(), view: view };
	var classes = {};

	function requires(source) {
		var found = [], re = /^\s*'require ([^' ]+)(?: as ([A-Za-z_]\w*))?';$/gm, m;
		while ((m = re.exec(source)) != null)
			found.push({ name: m[1], as: m[2] || m[1].replace(/[^a-zA-Z0-9_]/g, '_') });
		return found;
	}

	L.require = function(name) {
		if (Object.prototype.hasOwnProperty.call(builtins, name))
			return Promise.resolve(builtins[name]);
		if (classes[name])
			return classes[name];
		var url = '%s/%s.js'.format(L.env.resource, name.replace(/\./g, '/'));
		classes[name] = window.fetch(url).then(function(res) {
			if (!res.ok)
				L.raise('NetworkError', 'HTTP error %d while loading class file "%s"', res.status, url);
			return res.text();
		}).then(function(source) {
			var deps = requires(source);
			return Promise.all(deps.map(function(d) { return L.require(d.name); })).then(function(instances) {
				var factory = new Function([ 'window', 'document', 'L' ].concat(deps.map(function(d) { return d.as; })).join(','),
					source + '\n//# sourceURL=' + url);
				var Class = factory.apply(factory, [ window, document, L ].concat(instances));
				if (typeof(Class) !== 'function')
					throw new TypeError('"%s" did not return a class'.format(name));
				return new Class();
			});
		});
		return classes[name];
	};

	window.L = L;
	window.E = function() { return dom.create.apply(dom, arguments); };
	/* cbi.js's _() and N_(), except that window.TR is keyed by the text
	   itself where LuCI uses its sfh() hash of it: a msgid, and for N_() the
	   singular + U+0002 + the form index; '00000000' holds the plural rule. */
	var plural_function = null;
	window._ = function(s) {
		return (window.TR && window.TR[s]) || s;
	};
	window.N_ = function(n, s, p) {
		if (plural_function == null && window.TR)
			plural_function = new Function('n', (window.TR['00000000'] || 'plural=(n != 1);') + 'return +plural');
		var i = plural_function ? plural_function(n) : (n != 1);
		return (window.TR && window.TR[s + '\u0002' + (+i)]) || (i ? p : s);
	};
})(window, document);
