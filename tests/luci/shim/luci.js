/*
 * A stand-in for the part of LuCI's client framework (luci-base's
 * htdocs/luci-static/resources: luci.js, cbi.js, rpc.js, uci.js, ui.js,
 * form.js, validation.js, network.js, tools/widgets.js) that the wsflowd
 * views use, written for the browser test (tests/luci_app.rs). It loads
 * the views unchanged, with LuCI's module loader convention ('require x
 * [as y]' directives), and talks to the server the way LuCI does: ubus
 * JSON-RPC at /cgi-bin/luci/admin/ubus (rpc.declare, the uci object) and
 * the apply/confirm requests of "Save & Apply".
 *
 * It follows LuCI's behaviour where the views depend on it, read from
 * LuCI's code (openwrt/luci master, 2026-03): validation.js's datatypes
 * and Validator (same verdicts and messages; the ignored test
 * real_luci_validation_by_hand runs LuCI's own file in its place), which
 * field each widget validates and with what (a Dropdown its chosen values
 * joined by spaces, and its "custom" field; a DynamicList only its "add"
 * field; DeviceSelect passes no datatype), form.js's parse/isEqual/save
 * (every field validated again on save), uci.js's staged changes and
 * save requests, cbi.js's format() (%t, %h...), luci.js's dom.append (a
 * lone string is HTML), rpc.js's reply handling, the GridSection modal,
 * NamedSection's add button, Save & Apply. Its markup uses LuCI's class
 * names but is simpler (a Dropdown is a list of checkboxes; messages are
 * shown next to the field rather than in a tooltip). It is not LuCI's
 * code. The views were also checked by hand in LuCI's real framework
 * (README, "The LuCI pages").
 *
 * It also runs in node (tests/luci/form-schema.js) without a DOM: the
 * views then build their forms, and the forms can be walked and their
 * validators run, but nothing is rendered.
 */
(function(global) {
	'use strict';

	const hasDOM = (typeof document !== 'undefined');

	/* ---- i18n and String.prototype.format (cbi.js) ---- */

	global._ = function(text) { return text; };
	global.N_ = function(n, singular, plural) { return (n == 1) ? singular : plural; };

	/*
	 * cbi.js's String.prototype.format: %s %d %u %f %x %X %o %b %c %h %q
	 * %t %m %%, with padding ('0', ' ' or 'c), '-' to justify left and a
	 * minimum length. A null or undefined argument of %s prints as "null"
	 * or "undefined"; with the arguments used up, a conversion repeats the
	 * previous substitution. %t is a duration in seconds: "1d 2h 3m 4s", or
	 * "2h 3m 4s" under a day.
	 */
	const htmlEscapes = [ [ /&/g, '&#38;' ], [ /"/g, '&#34;' ], [ /'/g, '&#39;' ], [ /</g, '&#60;' ], [ />/g, '&#62;' ] ];
	const quoteEscapes = htmlEscapes.slice(1, 3);

	function escape(s, table) {
		if (s == null || typeof(s) == 'object' || typeof(s) == 'function')
			return '';

		let text = String(s);
		for (const [ re, entity ] of table)
			text = text.replace(re, entity);
		return text;
	}

	function seconds(param) {
		let s = (param || 0), m = 0, h = 0, d = 0;

		if (s > 59) {
			m = Math.floor(s / 60);
			s = s % 60;
		}
		if (m > 59) {
			h = Math.floor(m / 60);
			m = m % 60;
		}
		if (h > 23) {
			d = Math.floor(h / 24);
			h = h % 24;
		}

		return (d > 0) ? '%dd %dh %dm %ds'.format(d, h, m, s) : '%dh %dm %ds'.format(h, m, s);
	}

	function magnitude(param, base, precision) {
		const units = [ ' ', ' K', ' M', ' G', ' T', ' P', ' E' ];
		let value = (+param || 0), i = 0;

		for (i = 0; i < units.length && value > base; i++)
			value /= base;

		return i ? value.toFixed(precision) + units[i] + (base == 1024 ? 'i' : '') : value + ' ';
	}

	String.prototype.format = function() {
		const re = /^(([^%]*)%('.|0|\x20)?(-)?(\d+)?(\.\d+)?(%|b|c|d|u|f|o|s|x|X|q|h|j|t|m))/;
		let str = String(this), out = '', used = 0, pad = ' ', subst, a;

		while ((a = re.exec(str)) !== null) {
			const [ , whole, left, padSpec, justify, minLength, precisionSpec, type ] = a;
			let width = minLength;

			if (type == '%') {
				subst = '%';
			}
			else if (used < arguments.length) {
				const param = arguments[used++];
				const precision = (precisionSpec && type == 'f') ? +precisionSpec.substring(1) : -1;

				pad = (padSpec && padSpec.charAt(0) == '\'') ? padSpec.charAt(1) : (padSpec || ' ');

				switch (type) {
				case 'b': subst = Math.floor(+param || 0).toString(2); break;
				case 'c': subst = String.fromCharCode(+param || 0); break;
				case 'd': subst = Math.floor(+param || 0).toFixed(0); break;
				case 'u': subst = Math.floor((+param || 0) < 0 ? 0x100000000 + (+param || 0) : (+param || 0)).toFixed(0); break;
				case 'f': subst = (precision > -1) ? (+param || 0).toFixed(precision) : (+param || 0); break;
				case 'o': subst = Math.floor(+param || 0).toString(8); break;
				case 'x': subst = Math.floor(+param || 0).toString(16).toLowerCase(); break;
				case 'X': subst = Math.floor(+param || 0).toString(16).toUpperCase(); break;
				case 'h': subst = escape(param, htmlEscapes); break;
				case 'q': subst = escape(param, quoteEscapes); break;
				case 't': subst = seconds(param); break;
				case 'm':
					subst = magnitude(param, minLength ? +minLength : 1000, precisionSpec ? ~~(10 * +('0' + precisionSpec)) : 2);
					width = null;
					break;
				default: subst = param;
				}
			}

			if (width) {
				subst = subst.toString();
				while (subst.length < +width)
					subst = (justify == '-') ? subst + ' ' : pad + subst;
			}

			out += left + subst;
			str = str.substring(whole.length);
		}

		return out + str;
	};

	/* ---- classes (baseclass) ---- */

	function extend(Base, props) {
		const Class = class extends Base {};
		Object.assign(Class.prototype, props || {});
		return Class;
	}

	class BaseClass {
		constructor() {
			if (typeof(this.__init__) == 'function')
				return this.__init__.apply(this, arguments) || this;
		}

		static extend(props) { return extend(this, props); }
		static instantiate(args) { return new this(...args); }
		static isSubclass(other) { return other != null && (other === this || other.prototype instanceof this); }

		varargs(args, offset) { return Array.prototype.slice.call(args, offset).concat(Array.prototype.slice.call(arguments, 2)); }
	}

	/* ---- L ---- */

	const L = {
		env: Object.assign({
			sessionid: '00000000000000000000000000000000',
			token: '00000000000000000000000000000000',
			base_url: '/luci-static/resources',
			scriptname: '/cgi-bin/luci',
			apply_rollback: 90,
			apply_holdoff: 4,
			apply_timeout: 5,
			apply_display: 1.5,
			pollinterval: 5
		}, global.WSFLOWD_LUCI_ENV || {}),

		url() {
			return [ this.env.scriptname ].concat(Array.prototype.slice.call(arguments)).join('/').replace(/\/+/g, '/');
		},

		resource() {
			return [ '/luci-static/resources' ].concat(Array.prototype.slice.call(arguments)).join('/');
		},

		bind(fn, self) {
			const args = Array.prototype.slice.call(arguments, 2);
			return function() { return fn.apply(self, args.concat(Array.prototype.slice.call(arguments))); };
		},

		resolveDefault(value, fallback) {
			return Promise.resolve(value).catch(() => fallback);
		},

		isObject(value) {
			return value != null && typeof(value) == 'object' && !Array.isArray(value);
		},

		/* luci.js toArray(): a string is split on whitespace. */
		toArray(value) {
			if (value == null)
				return [];
			if (Array.isArray(value))
				return value;
			if (typeof(value) == 'object')
				return [ value ];

			const s = String(value).trim();
			return (s == '') ? [] : s.split(/\s+/);
		},

		naturalCompare(a, b) {
			return String(a).localeCompare(String(b), undefined, { numeric: true });
		},

		raise(type, fmt) {
			const e = new Error(String(fmt).format.apply(String(fmt), Array.prototype.slice.call(arguments, 2)));
			e.name = type;
			throw e;
		},

		error(type, fmt) {
			try {
				L.raise.apply(L, arguments);
			}
			catch (e) {
				if (hasDOM && L.ui)
					L.ui.addNotification(null, E('pre', e.message), 'error');
				throw e;
			}
		},

		modules: {},

		/* luci.js require(): built-in classes here, others fetched and compiled. */
		require(name) {
			if (L.modules[name])
				return Promise.resolve(L.modules[name]);

			return L.loadSource(name).then((source) => L.compile(name, source));
		},

		loadSource(name) {
			const url = '%s/%s.js'.format(L.env.base_url, name.replace(/\./g, '/'));
			return fetch(url).then((res) => {
				if (!res.ok)
					L.raise('NetworkError', 'HTTP error %d while loading class file "%s"', res.status, url);
				return res.text();
			});
		},

		/* The directives before the code: 'use strict' and 'require NAME [as ALIAS]'. */
		directives(source) {
			const requires = [];
			const re = /^\s*(?:\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*(['"])([^'"\n]*)\1;?/;
			let rest = source;
			let m;

			while ((m = re.exec(rest)) != null) {
				const directive = m[2];
				const req = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/.exec(directive);

				if (req)
					requires.push({ name: req[1], as: req[2] || req[1].replace(/[^a-zA-Z0-9_]/g, '_') });
				else if (!/^use[ \t]+strict$/.test(directive))
					break;

				rest = rest.substring(m[0].length);
			}

			return requires;
		},

		compile(name, source) {
			const requires = L.directives(source);

			return Promise.all(requires.map((r) => L.require(r.name))).then((instances) => {
				const args = [ 'window', 'document', 'L' ].concat(requires.map((r) => r.as));
				const factory = new Function(args.join(','), source + '\n//# sourceURL=' + name + '.js');
				const Class = factory.apply(null, [ global, hasDOM ? document : undefined, L ].concat(instances));
				const instance = (typeof(Class) == 'function') ? new Class() : Class;

				L.modules[name] = instance;
				return instance;
			});
		}
	};

	global.L = L;
	L.Class = BaseClass;

	/* ---- dom (luci.js) ---- */

	const instances = new WeakMap();

	const dom = {
		elem(e) { return hasDOM && e instanceof Node; },

		/*
		 * luci.js dom.append(): the items of an array appended, as text
		 * nodes if they are not nodes (nested arrays are not flattened); a
		 * single string is HTML (innerHTML), which views escape with %h.
		 */
		append(node, children) {
			if (!dom.elem(node))
				return null;

			if (Array.isArray(children)) {
				for (const c of children)
					node.appendChild(dom.elem(c) ? c : document.createTextNode(`${c}`));
				return node.lastChild;
			}
			if (typeof(children) == 'function')
				return dom.append(node, children(node));
			if (dom.elem(children))
				return node.appendChild(children);
			if (children != null) {
				node.innerHTML = `${children}`;
				return node.lastChild;
			}
			return null;
		},

		content(node, children) {
			while (node.firstChild)
				node.removeChild(node.firstChild);
			return dom.append(node, children);
		},

		/* What create() makes of its content: as append(), then the element. */
		fill(elem, data) {
			dom.append(elem, data);
			return elem;
		},

		create(html, attr, data) {
			if (!(attr instanceof Object) || Array.isArray(attr) || dom.elem(attr))
				data = attr, attr = null;

			let elem;

			if (Array.isArray(html)) {
				elem = document.createDocumentFragment();
				html.forEach((h) => elem.appendChild(dom.create(h)));
			}
			else if (dom.elem(html)) {
				elem = html;
			}
			else if (html.charAt(0) == '<') {
				const t = document.createElement('template');
				t.innerHTML = html;
				elem = t.content.firstChild;
			}
			else {
				elem = document.createElement(html);
			}

			for (const key in (attr || {})) {
				const v = attr[key];
				if (v == null)
					continue;
				if (typeof(v) == 'function')
					elem.addEventListener(key, v);
				else if (typeof(v) == 'object')
					elem.setAttribute(key, JSON.stringify(v));
				else
					elem.setAttribute(key, v);
			}

			return dom.fill(elem, data);
		},

		matches(node, selector) {
			return node != null && node.matches != null && node.matches(selector);
		},

		parent(node, selector) {
			return node ? node.closest(selector) : null;
		},

		bindClassInstance(node, inst) { instances.set(node, inst); },

		findClassInstance(node) {
			for (let n = node; n != null; n = n.parentNode)
				if (instances.has(n))
					return instances.get(n);
			return null;
		},

		callClassMethod(node, method) {
			const inst = dom.findClassInstance(node);
			return (inst && typeof(inst[method]) == 'function') ? inst[method].apply(inst, Array.prototype.slice.call(arguments, 2)) : null;
		}
	};

	global.E = function() { return dom.create.apply(dom, arguments); };
	L.dom = dom;
	L.modules.dom = dom;
	L.modules.baseclass = BaseClass;

	/*
	 * ---- validation (validation.js) ----
	 *
	 * The datatypes the views use and those they are built from, with
	 * validation.js's semantics, side effects and messages (checked against
	 * the real file: the ignored test real_luci_validation_by_hand in
	 * tests/luci_app.rs). A datatype function runs with `this` a validator:
	 * `this.value`, `this.factory` (the parse helpers), `this.apply(type,
	 * value, args)` (which replaces this.value when given one) and
	 * `this.assert(condition, message)`; views may call them through the
	 * stub validator validation.js's documentation describes.
	 */

	const factory = {
		parseInteger(x) { return /^-?\d+$/.test(x) ? +x : NaN; },
		parseDecimal(x) { return /^-?\d+(?:\.\d+)?$/.test(x) ? +x : NaN; },

		/* Four decimal octets of 1 to 3 digits, each at most 255 (leading zeros taken). */
		parseIPv4(x) {
			const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(x);
			if (!m || m.slice(1).some((octet) => +octet > 255))
				return null;
			return m.slice(1).map(Number);
		},

		/*
		 * Groups of 1 to 4 hex digits, an IPv4 address as the last two; one
		 * '::', which counts as at least one group, and at the start or end
		 * as at least two (a quirk kept: "::2:3:4:5:6:7:8" is refused).
		 */
		parseIPv6(x) {
			const embedded = /^([a-fA-F0-9:]+):(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(x);
			if (embedded) {
				const v4 = this.parseIPv4(embedded[2]);
				if (!v4)
					return null;
				x = '%s:%s:%s'.format(embedded[1], (v4[0] * 256 + v4[1]).toString(16), (v4[2] * 256 + v4[3]).toString(16));
			}

			if (!/^[a-fA-F0-9:]+$/.test(x))
				return null;

			const halves = x.split(/::/);
			if (halves.length > 2)
				return null;

			const head = (halves[0] || '0').split(/:/);
			const tail = (halves.length > 1) ? (halves[1] || '0').split(/:/) : [];

			if (tail.length ? (head.length + tail.length > 7) : ((halves.length < 2 && head.length < 8) || head.length > 8))
				return null;

			const group = (g) => {
				const word = parseInt(g, 16);
				return (g.length <= 4 && !isNaN(word) && word <= 0xffff) ? word : null;
			};
			const words = [];

			for (const g of head) {
				if (group(g) == null)
					return null;
				words.push(group(g));
			}
			for (let i = 0; i < 8 - head.length - tail.length; i++)
				words.push(0);
			for (const g of tail) {
				if (group(g) == null)
					return null;
				words.push(group(g));
			}

			return words;
		}
	};

	const types = {
		integer() { return this.assert(!isNaN(this.factory.parseInteger(this.value)), _('valid integer value')); },
		uinteger() { return this.assert(this.factory.parseInteger(this.value) >= 0, _('positive integer value')); },
		float() { return this.assert(!isNaN(this.factory.parseDecimal(this.value)), _('valid decimal value')); },
		ufloat() { return this.assert(this.factory.parseDecimal(this.value) >= 0, _('positive decimal value')); },

		ipaddr(nomask) {
			return this.assert(this.apply('ip4addr', null, [ nomask ]) || this.apply('ip6addr', null, [ nomask ]),
				nomask ? _('valid IP address') : _('valid IP address or prefix'));
		},

		ip4addr(nomask) {
			const m = this.value.match(nomask ? /^(\d+\.\d+\.\d+\.\d+)$/ : /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+\.\d+\.\d+\.\d+)|\/(\d{1,2}))?$/);
			return this.assert(m && this.factory.parseIPv4(m[1]) && (m[2] ? this.factory.parseIPv4(m[2]) : (m[3] ? this.apply('ip4prefix', m[3]) : true)),
				nomask ? _('valid IPv4 address') : _('valid IPv4 address or network'));
		},

		ip6addr(nomask) {
			const m = this.value.match(nomask ? /^([0-9a-fA-F:.]+)$/ : /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/);
			return this.assert(m && this.factory.parseIPv6(m[1]) && (m[2] ? this.apply('ip6prefix', m[2]) : true),
				nomask ? _('valid IPv6 address') : _('valid IPv6 address or prefix'));
		},

		ip4prefix() { return this.assert(!isNaN(this.value) && this.value >= 0 && this.value <= 32, _('valid IPv4 prefix value (0-32)')); },
		ip6prefix() { return this.assert(!isNaN(this.value) && this.value >= 0 && this.value <= 128, _('valid IPv6 prefix value (0-128)')); },

		port() {
			const p = this.factory.parseInteger(this.value);
			return this.assert(p >= 0 && p <= 65535, _('valid port value'));
		},

		/* The first byte's parity is read from its decimal value: "ff" passes as unicast. */
		macaddr(multicast) {
			const m = this.value.match(/^([a-fA-F0-9]{2}):([a-fA-F0-9]{2}:){4}[a-fA-F0-9]{2}$/);
			return this.assert(m != null && !(+m[1] & 1) == !multicast,
				multicast ? _('valid multicast MAC address') : _('valid MAC address'));
		},

		host(ipv4only) {
			return this.assert(this.apply('hostname') || this.apply(ipv4only == 1 ? 'ip4addr' : 'ipaddr', null, [ 'nomask' ]),
				_('valid hostname or IP address'));
		},

		/* At most 253 characters (a final dot included): letters, digits, '_', and inside also '-' and '.'; not digits and dots only. */
		hostname(strict) {
			if (this.value.length <= 253)
				return this.assert(
					(this.value.match(/^[a-zA-Z0-9_]+$/) != null ||
						(this.value.match(/^[a-zA-Z0-9_][a-zA-Z0-9_\-.]*[a-zA-Z0-9]\.?$/) && this.value.match(/[^0-9.]/))) &&
					(!strict || !this.value.match(/^_/)),
					_('valid hostname'));

			return this.assert(false, _('valid hostname'));
		},

		/* 1 to 15 characters (not bytes), none of ':', '/', '%' or JavaScript's \s; not "." or "..". */
		netdevname() {
			const v = this.value;

			if (v == '.' || v == '..')
				return this.assert(false, _('valid network device name, not "." or ".."'));

			return this.assert(v.match(/^[^:/%\s]{1,15}$/), _('valid network device name between 1 and 15 characters not containing ":", "/", "%" or spaces'));
		},

		uciname() { return this.assert(this.value.match(/^[a-zA-Z0-9_]+$/), _('valid UCI identifier')); },

		range(min, max) {
			const v = this.factory.parseDecimal(this.value);
			return this.assert(v >= +min && v <= +max, _('value between %f and %f').format(min, max));
		},
		min(min) { return this.assert(this.factory.parseDecimal(this.value) >= +min, _('value greater or equal to %f').format(min)); },
		max(max) { return this.assert(this.factory.parseDecimal(this.value) <= +max, _('value smaller or equal to %f').format(max)); },

		/* Lengths in UTF-8 bytes. */
		length(len) { return this.assert(bytelen(this.value) == +len, _('value with %d characters').format(len)); },
		rangelength(min, max) {
			const len = bytelen(this.value);
			return this.assert(len >= +min && len <= +max, _('value between %d and %d characters').format(min, max));
		},
		minlength(min) { return this.assert(bytelen(this.value) >= +min, _('value with at least %d characters').format(min)); },
		maxlength(max) { return this.assert(bytelen(this.value) <= +max, _('value with at most %d characters').format(max)); },

		or() {
			const errors = [];
			for (let i = 0; i < arguments.length; i += 2) {
				if (typeof(arguments[i]) != 'function') {
					if (arguments[i] == this.value)
						return this.assert(true);
					errors.push('"%s"'.format(arguments[i]));
					i--;
				}
				else if (arguments[i].apply(this, arguments[i + 1])) {
					return this.assert(true);
				}
				else {
					errors.push(this.error);
				}
			}
			return this.assert(false, _('One of the following: %s').format('\n - ' + errors.join('\n - ')));
		},

		and() {
			for (let i = 0; i < arguments.length; i += 2) {
				if (typeof(arguments[i]) != 'function') {
					if (arguments[i] != this.value)
						return this.assert(false, '"%s"'.format(arguments[i]));
					i--;
				}
				else if (!arguments[i].apply(this, arguments[i + 1])) {
					return this.assert(false, this.error);
				}
			}
			return this.assert(true);
		},

		neg() {
			this.value = this.value.replace(/^[ \t]*![ \t]*/, '');

			if (arguments[0].apply(this, arguments[1]))
				return this.assert(true);

			return this.assert(false, _('Potential negation of: %s').format(this.error));
		},

		/* Each word (split on spaces and tabs); a value of blanks only throws, as in LuCI. */
		list(subvalidator, subargs) {
			if (this.field)
				this.field.setAttribute('data-is-list', 'true');

			const tokens = this.value.match(/[^ \t]+/g);
			for (let i = 0; i < tokens.length; i++)
				if (!this.apply(subvalidator, tokens[i], subargs))
					return this.assert(false, this.error);

			return this.assert(true);
		},

		string(param) {
			if (param === null || param === undefined)
				return true;
			return this.assert(this.value === param, _('string: "%s"').format(param));
		}
	};

	function bytelen(x) {
		return new TextEncoder().encode(x).length;
	}

	/* validation.js compile(): "name(arg,...)" into [ fn, args, ... ]; quoted arguments may hold commas. */
	function compileType(code) {
		const stack = [];
		let pos = 0, depth = 0, esc = false;

		code += ',';

		for (let i = 0; i < code.length; i++) {
			if (esc) {
				esc = false;
				continue;
			}

			const c = code.charAt(i);

			if (c == '\\') {
				esc = true;
			}
			else if (c == '"' || c == '\'') {
				let j = i + 1;
				for (; j < code.length; j++) {
					if (code.charAt(j) == '\\') {
						j++;
						continue;
					}
					if (code.charAt(j) == c) {
						i = j;
						break;
					}
				}
			}
			else if (c == '(' || c == ',') {
				if (depth <= 0) {
					if (pos < i) {
						const label = code.substring(pos, i).replace(/\\(.)/g, '$1').replace(/^[ \t]+/g, '').replace(/[ \t]+$/g, '');

						if (label && !isNaN(label))
							stack.push(parseFloat(label));
						else if (/^(['"]).*\1$/.test(label))
							stack.push(label.replace(/^(['"])(.*)\1$/, '$2'));
						else if (typeof(types[label]) == 'function')
							stack.push(types[label], null);
						else
							L.raise('SyntaxError', 'Unhandled token "%s"', label);
					}
					pos = i + 1;
				}
				depth += (c == '(');
			}
			else if (c == ')') {
				if (--depth <= 0) {
					if (typeof(stack[stack.length - 2]) != 'function')
						L.raise('SyntaxError', 'Argument list follows non-function');
					stack[stack.length - 1] = compileType(code.substring(pos, i));
					pos = i + 1;
				}
			}
		}

		return stack;
	}

	/*
	 * validation.js's Validator: checks the field's value against the
	 * datatype, then the validate function(s); marks the field invalid
	 * (class cbi-input-invalid, data-tooltip) and tells the widget with a
	 * bubbling validation-success/validation-failure event. A field outside
	 * the page and outside any [data-field] element counts as valid.
	 */
	class Validator {
		constructor(field, type, optional, vfunc) {
			this.field = field;
			this.optional = optional;
			this.vfunc = vfunc;
			this.vstack = compileType(type);
			this.factory = factory;
		}

		assert(condition, message) {
			if (!condition) {
				this.field.classList.add('cbi-input-invalid');
				this.error = message;
				return false;
			}

			this.field.classList.remove('cbi-input-invalid');
			this.error = null;
			return true;
		}

		apply(name, value, args) {
			const fn = (typeof(name) == 'function') ? name : types[name];

			if (typeof(fn) != 'function')
				return false;

			if (value != null)
				this.value = value;

			return fn.apply(this, args);
		}

		validate() {
			if (!this.field.closest('body') && !this.field.closest('[data-field]'))
				return true;

			this.field.classList.remove('cbi-input-invalid');
			this.value = (this.field.value != null) ? this.field.value : '';
			this.error = null;

			let valid;

			if (this.value.length === 0)
				valid = this.assert(this.optional, _('non-empty value'));
			else
				valid = this.vstack[0].apply(this, this.vstack[1]);

			if (valid !== true)
				return this.fail(_('Expecting: %s').format(this.error));

			if (typeof(this.vfunc) == 'function') {
				valid = this.vfunc(this.value);
			}
			else if (Array.isArray(this.vfunc)) {
				for (const fn of this.vfunc) {
					if (typeof(fn) == 'function') {
						valid = fn(this.value);
						if (valid !== true)
							break;
					}
				}
			}

			if (valid !== true) {
				this.assert(false, valid);
				return this.fail(valid);
			}

			this.field.removeAttribute('data-tooltip');
			this.field.removeAttribute('data-tooltip-style');
			this.field.dispatchEvent(new CustomEvent('validation-success', { bubbles: true }));
			return true;
		}

		fail(message) {
			this.field.setAttribute('data-tooltip', message);
			this.field.setAttribute('data-tooltip-style', 'error');
			this.field.dispatchEvent(new CustomEvent('validation-failure', { bubbles: true, detail: { message: message } }));
			return false;
		}
	}

	const validation = Object.assign(Object.create(factory), {
		types: types,
		compile: compileType,
		create(field, type, optional, vfunc) { return new Validator(field, type, optional, vfunc); }
	});
	L.modules.validation = validation;

	/* ---- request and rpc (rpc.js) ---- */

	let rpcId = 1;

	function post(url, body, contentType) {
		return fetch(url, {
			method: 'POST',
			headers: { 'Content-Type': contentType || 'application/json' },
			body: (typeof(body) == 'string') ? body : JSON.stringify(body),
			credentials: 'same-origin'
		});
	}

	const rpc = {
		declare(options) {
			return function() {
				const params = {};
				const args = arguments;

				(options.params || []).forEach((name, i) => {
					if (args[i] !== undefined)
						params[name] = args[i];
				});

				const msg = {
					jsonrpc: '2.0',
					id: rpcId++,
					method: 'call',
					params: [ L.env.sessionid, options.object, options.method, params ]
				};

				return post(L.url('admin/ubus'), msg).then((res) => {
					if (!res.ok)
						L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s', options.object, options.method, res.status, res.statusText || '?');
					return res.json();
				}).then((reply) => {
					if (!L.isObject(reply) || reply.jsonrpc != '2.0')
						L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', options.object, options.method);

					if (L.isObject(reply.error) && reply.error.code && reply.error.message)
						L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s', options.object, options.method, reply.error.code, reply.error.message);

					let ret = null;

					if (Array.isArray(reply.result)) {
						if (options.reject && reply.result[0] !== 0)
							L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d', options.object, options.method, reply.result[0]);
						ret = (reply.result.length > 1) ? reply.result[1] : reply.result[0];
					}

					if (options.expect) {
						for (const key in options.expect) {
							if (ret != null && key != '')
								ret = ret[key];
							if (ret == null || Object.prototype.toString.call(ret) != Object.prototype.toString.call(options.expect[key]))
								ret = options.expect[key];
							break;
						}
					}

					if (typeof(options.filter) == 'function')
						ret = options.filter(ret, params);

					return ret;
				});
			};
		}
	};

	L.modules.rpc = rpc;

	/* ---- uci (uci.js): values from 'uci get', staged changes, 'uci add/set/delete' on save ---- */

	const callUciGet = rpc.declare({ object: 'uci', method: 'get', params: [ 'config' ], expect: { values: {} } });
	const callUciAdd = rpc.declare({ object: 'uci', method: 'add', params: [ 'config', 'type', 'name', 'values' ], expect: { section: '' } });
	const callUciSet = rpc.declare({ object: 'uci', method: 'set', params: [ 'config', 'section', 'values' ] });
	const callUciDelete = rpc.declare({ object: 'uci', method: 'delete', params: [ 'config', 'section', 'options' ] });

	const uci = {
		state: { values: {}, creates: {}, changes: {}, deletes: {} },
		serial: 0,

		load(packages) {
			const names = L.toArray(packages).filter((p) => !this.state.values[p]);

			return Promise.all(names.map((p) => callUciGet(p).then((values) => {
				this.state.values[p] = values;
			}))).then(() => packages);
		},

		unload(packages) {
			for (const p of L.toArray(packages)) {
				delete this.state.values[p];
				delete this.state.creates[p];
				delete this.state.changes[p];
				delete this.state.deletes[p];
			}
		},

		createSID() {
			return 'new%06x'.format(++this.serial);
		},

		add(conf, type, name) {
			const sid = name || this.createSID();
			const creates = this.state.creates[conf] = this.state.creates[conf] || {};
			const count = this.sections(conf).length;

			creates[sid] = { '.type': type, '.name': sid, '.create': name, '.anonymous': !name, '.index': 1000 + count };
			return sid;
		},

		remove(conf, sid) {
			const creates = this.state.creates[conf];

			if (creates && creates[sid]) {
				delete creates[sid];
				return;
			}

			const deletes = this.state.deletes[conf] = this.state.deletes[conf] || {};
			deletes[sid] = true;

			if (this.state.changes[conf])
				delete this.state.changes[conf][sid];
		},

		section(conf, sid) {
			const creates = this.state.creates[conf] || {};
			const values = this.state.values[conf] || {};
			const deletes = this.state.deletes[conf] || {};

			if (creates[sid])
				return creates[sid];
			if (!values[sid] || deletes[sid] === true)
				return null;

			const s = Object.assign({}, values[sid], (this.state.changes[conf] || {})[sid] || {});
			for (const opt in (L.isObject(deletes[sid]) ? deletes[sid] : {}))
				delete s[opt];
			return s;
		},

		sections(conf, type, cb) {
			const all = Object.keys(this.state.values[conf] || {})
				.concat(Object.keys(this.state.creates[conf] || {}))
				.map((sid) => this.section(conf, sid))
				.filter((s) => s != null && (type == null || s['.type'] == type))
				.sort((a, b) => a['.index'] - b['.index']);

			if (typeof(cb) == 'function')
				all.forEach((s) => cb.call(this, s, s['.name']));

			return all;
		},

		get(conf, sid, opt) {
			const s = this.section(conf, sid);

			if (s == null)
				return null;
			if (opt == null)
				return s;
			return s[opt];
		},

		set(conf, sid, opt, value) {
			if (sid == null || opt == null || opt.charAt(0) == '.')
				return;

			const creates = this.state.creates[conf] || {};

			/* In a section added here, even '' is kept, as uci.js keeps it. */
			if (creates[sid]) {
				if (value != null)
					creates[sid][opt] = value;
				else
					delete creates[sid][opt];
				return;
			}

			const values = this.state.values[conf] || {};
			const deletes = this.state.deletes[conf] = this.state.deletes[conf] || {};

			if (!values[sid] || deletes[sid] === true)
				return;

			if (value != null && value !== '' && !(Array.isArray(value) && !value.length)) {
				const changes = this.state.changes[conf] = this.state.changes[conf] || {};
				changes[sid] = changes[sid] || {};
				changes[sid][opt] = value;
				if (L.isObject(deletes[sid]))
					delete deletes[sid][opt];
			}
			else {
				if (this.state.changes[conf] && this.state.changes[conf][sid])
					delete this.state.changes[conf][sid][opt];
				if (values[sid][opt] != null) {
					deletes[sid] = L.isObject(deletes[sid]) ? deletes[sid] : {};
					deletes[sid][opt] = true;
				}
			}
		},

		unset(conf, sid, opt) {
			return this.set(conf, sid, opt, null);
		},

		/* uci.js save(): deletes, then adds, then sets; then reload. */
		save() {
			const tasks = [];
			const packages = {};

			for (const conf in this.state.deletes) {
				for (const sid in this.state.deletes[conf]) {
					const d = this.state.deletes[conf][sid];
					if (d === true)
						tasks.push(callUciDelete(conf, sid, null));
					else if (Object.keys(d).length)
						tasks.push(callUciDelete(conf, sid, Object.keys(d)));
				}
				packages[conf] = true;
			}

			for (const conf in this.state.creates) {
				for (const sid in this.state.creates[conf]) {
					const c = this.state.creates[conf][sid];
					const values = {};
					for (const k in c)
						if (k.charAt(0) != '.')
							values[k] = c[k];
					tasks.push(callUciAdd(conf, c['.type'], c['.create'], values));
				}
				packages[conf] = true;
			}

			for (const conf in this.state.changes) {
				for (const sid in this.state.changes[conf])
					if (Object.keys(this.state.changes[conf][sid]).length)
						tasks.push(callUciSet(conf, sid, this.state.changes[conf][sid]));
				packages[conf] = true;
			}

			return Promise.all(tasks).then(() => {
				const names = Object.keys(packages);
				this.unload(names);
				return this.load(names);
			});
		}
	};

	L.modules.uci = uci;

	/* ---- poll ---- */

	const poll = {
		queue: [],
		timer: null,

		add(fn, interval) {
			this.queue.push({ fn: fn, interval: (interval || L.env.pollinterval) * 1000, next: Date.now() + (interval || L.env.pollinterval) * 1000, running: false });
			this.start();
		},

		start() {
			if (this.timer == null && hasDOM)
				this.timer = window.setInterval(() => this.step(), 250);
		},

		stop() {
			if (this.timer != null)
				window.clearInterval(this.timer);
			this.timer = null;
		},

		active() { return this.timer != null; },

		step() {
			const now = Date.now();
			for (const e of this.queue) {
				if (e.running || now < e.next)
					continue;
				e.running = true;
				Promise.resolve(e.fn()).catch(() => {}).then(() => {
					e.running = false;
					e.next = Date.now() + e.interval;
				});
			}
		}
	};

	L.modules.poll = poll;

	/* ---- ui (ui.js) ---- */

	/*
	 * ui.js addValidator(): a Validator run on `events` and at once; the
	 * message is also shown right after the field (LuCI shows it in a
	 * tooltip when the pointer is over the field).
	 */
	function addValidator(field, type, optional, vfunc, ...events) {
		if (type == null)
			return;

		if (!events.length)
			events.push('blur', 'keyup');

		try {
			const validator = new Validator(field, type, optional, vfunc);
			const validate = () => {
				const valid = validator.validate();
				showMessage(field);
				return valid;
			};

			for (const e of events)
				field.addEventListener(e, validate);

			validate();
			return validate;
		}
		catch {
			/* A datatype that does not compile: no validator, as in ui.js. */
			return undefined;
		}
	}

	function showMessage(field) {
		if (!hasDOM || !field.parentNode)
			return;

		let tip = field.nextElementSibling;
		if (!tip || !tip.classList.contains('cbi-tooltip')) {
			tip = E('div', { 'class': 'cbi-tooltip error', 'hidden': '' });
			field.parentNode.insertBefore(tip, field.nextSibling);
		}

		const message = field.classList.contains('cbi-input-invalid') ? field.getAttribute('data-tooltip') : null;
		tip.textContent = message || '';
		tip.hidden = !message;
	}

	/*
	 * ui.AbstractElement: `node` is the widget's root (bound to the
	 * instance); validation-success/-failure events reaching it, from its
	 * own validator or from one of a field inside it, set its state.
	 */
	class UIElement {
		constructor(value, options) {
			this.value = value;
			this.options = Object.assign({}, options || {});
		}

		getValue() { return this.value; }
		setValue(v) { this.value = v; }
		isValid() { return this.validState !== false; }
		getValidationError() { return this.validationError || ''; }

		triggerValidation() {
			if (typeof(this.vfunc) != 'function')
				return false;

			const wasValid = this.isValid();
			this.vfunc();
			return wasValid != this.isValid();
		}

		setUpdateEvents(target, ...events) {
			const datatype = this.options.datatype;
			const optional = Object.prototype.hasOwnProperty.call(this.options, 'optional') ? this.options.optional : true;
			const validate = this.options.validate;

			for (const e of events)
				target.addEventListener(e, () => this.node.dispatchEvent(new CustomEvent('widget-update', { bubbles: true })));

			if (!datatype && !validate)
				return;

			this.node.addEventListener('validation-success', () => {
				this.validState = true;
				this.validationError = '';
			});
			this.node.addEventListener('validation-failure', (ev) => {
				this.validState = false;
				this.validationError = ev.detail.message;
			});

			this.vfunc = addValidator(target, datatype ?? 'string', optional, validate, ...events);
		}

		setChangeEvents(target, ...events) {
			for (const e of events)
				target.addEventListener(e, () => {
					this.node.setAttribute('data-changed', true);
					this.node.dispatchEvent(new CustomEvent('widget-change', { bubbles: true }));
				});
		}

		bindNode(node) {
			this.node = node;
			dom.bindClassInstance(node, this);
			return node;
		}
	}

	/* ui.Textfield: validated on keyup and blur. */
	class Textfield extends UIElement {
		render() {
			const frame = E('div', { 'id': this.options.id, 'class': 'cbi-textfield' });
			const input = E('input', {
				'id': this.options.id ? 'widget.' + this.options.id : null,
				'type': 'text',
				'class': 'cbi-input-text',
				'placeholder': this.options.placeholder,
				'value': (this.value != null) ? this.value : ''
			});

			frame.appendChild(input);
			this.input = input;
			this.bindNode(frame);
			this.setUpdateEvents(input, 'keyup', 'blur');
			this.setChangeEvents(input, 'change');
			return frame;
		}

		getValue() { return this.input ? this.input.value : this.value; }
		setValue(v) { this.value = v; if (this.input) this.input.value = v; }

		/* The validator of what is typed: the widget's own. */
		static typedValidation(options) {
			return { datatype: options.datatype ?? 'string', optional: Object.prototype.hasOwnProperty.call(options, 'optional') ? options.optional : true, validate: options.validate };
		}
	}

	class Checkbox extends UIElement {
		render() {
			const enabled = (this.options.value_enabled != null) ? this.options.value_enabled : '1';
			const frame = E('div', { 'id': this.options.id, 'class': 'cbi-checkbox' });

			this.input = E('input', { 'id': this.options.id ? 'widget.' + this.options.id : null, 'type': 'checkbox', 'class': 'cbi-input-checkbox' });
			this.input.checked = (this.value == enabled);
			frame.appendChild(this.input);
			frame.appendChild(E('label', { 'for': this.options.id ? 'widget.' + this.options.id : null }));
			this.bindNode(frame);
			this.setUpdateEvents(this.input, 'click', 'blur');
			this.setChangeEvents(this.input, 'change');
			return frame;
		}

		isChecked() { return this.input ? this.input.checked : false; }
		getValue() { return this.isChecked() ? (this.options.value_enabled || '1') : (this.options.value_disabled || '0'); }

		static typedValidation() { return null; }
	}

	class Select extends UIElement {
		constructor(value, choices, options) {
			super(value, options);
			this.choices = choices;
		}

		render() {
			const keys = this.options.sort || Object.keys(this.choices);
			this.select = E('select', { 'id': this.options.id ? 'widget.' + this.options.id : null, 'class': 'cbi-input-select' }, keys.map((k) =>
				E('option', { 'value': k }, this.choices[k] != null ? String(this.choices[k]) : k)));
			const value = L.toArray(this.value)[0];
			if (value != null && keys.includes(value))
				this.select.value = value;

			const frame = E('div', { 'id': this.options.id, 'class': 'cbi-select' }, this.select);
			this.bindNode(frame);
			this.setUpdateEvents(this.select, 'change', 'click', 'blur');
			this.setChangeEvents(this.select, 'change');
			return frame;
		}

		getValue() { return this.select ? this.select.value : this.value; }

		/* A choice, not typed text. */
		static typedValidation() { return null; }
	}

	/*
	 * ui.Dropdown: the choices (several with `multiple`), drawn here as a
	 * list of checkboxes or radio buttons, and with `create` a "custom" field
	 * whose text becomes new choices, split on whitespace when multiple.
	 * As in LuCI, the widget's own validator checks the chosen values
	 * joined by spaces (the node's `value`, set on every change), and the
	 * custom field has a validator of its own (the datatype, or 'string').
	 */
	class Dropdown extends UIElement {
		constructor(value, choices, options) {
			super(value, Object.assign({ sort: true, multiple: Array.isArray(value), optional: true, create: false }, options));
			this.values = Array.isArray(value) ? value.slice() : ((value != null && value != '') ? [ value ] : []);
			this.choices = (typeof(choices) == 'object' && choices != null) ? choices : {};
		}

		render() {
			const multiple = !!this.options.multiple;
			let keys = Object.keys(this.choices);

			if (this.options.sort === true)
				keys.sort(L.naturalCompare);
			else if (Array.isArray(this.options.sort))
				keys = this.options.sort.slice();

			if (this.options.create)
				for (const v of this.values)
					if (!Object.prototype.hasOwnProperty.call(this.choices, v))
						keys.push(v);

			const node = E('div', { 'id': this.options.id, 'class': 'cbi-dropdown', 'data-multiple': multiple ? 'true' : null });
			this.list = E('ul', { 'class': 'cbi-dropdown-list' });
			node.appendChild(this.list);
			this.node = node;

			if (!multiple && this.options.optional && !keys.includes(''))
				this.addItem('', this.options.select_placeholder || _('-- Please choose --'), this.values.length == 0);

			for (const key of keys)
				this.addItem(key, this.choices[key], this.values.includes(key));

			if (this.options.create) {
				const create = E('input', { 'type': 'text', 'class': 'create-item-input', 'placeholder': _('-- custom --') });
				node.appendChild(E('div', { 'class': 'cbi-dropdown-create' }, [
					create,
					E('button', { 'class': 'cbi-button cbi-button-add', 'type': 'button', 'click': () => {
						if (create.classList.contains('cbi-input-invalid'))
							return;
						this.createItems(create.value);
						create.value = '';
					} }, _('Add'))
				]));

				if (this.options.datatype || this.options.validate)
					addValidator(create, this.options.datatype ?? 'string', true, this.options.validate, 'blur', 'keyup');
			}

			this.saveValues();
			this.bindNode(node);
			this.setUpdateEvents(node, 'cbi-dropdown-change');
			this.setChangeEvents(node, 'cbi-dropdown-change');
			return node;
		}

		addItem(key, label, checked) {
			const input = E('input', { 'type': this.options.multiple ? 'checkbox' : 'radio', 'name': this.options.id + '-choice', 'value': key, 'data-value': key });
			input.checked = checked;
			input.addEventListener('change', () => this.saveValues());
			this.list.appendChild(E('li', { 'data-value': key }, E('label', [ input, ' ', (label != null) ? label : key ])));
			return input;
		}

		/* The chosen values into the node's `value`, joined by spaces, and a change event. */
		saveValues() {
			this.node.value = this.selected().join(' ');
			this.node.dispatchEvent(new CustomEvent('cbi-dropdown-change', { bubbles: true }));
		}

		selected() {
			return [ ...this.list.querySelectorAll('input') ].filter((i) => i.checked && i.value !== '').map((i) => i.value);
		}

		createItems(value) {
			const text = (value ?? '').trim();
			const items = !text.length ? [] : (this.options.multiple ? text.split(/\s+/) : [ text ]);

			for (const item of items) {
				let input = [ ...this.list.querySelectorAll('input') ].find((i) => i.value === item);
				if (!input)
					input = this.addItem(item, item, false);
				input.checked = true;
			}

			this.saveValues();
		}

		getValue() {
			const values = this.list ? this.selected() : this.values;
			return this.options.multiple ? values : values[0];
		}

		setValue(values) {
			const wanted = L.toArray(values);
			for (const i of this.list.querySelectorAll('input'))
				i.checked = wanted.includes(i.value);
			this.createItems(wanted.filter((v) => !this.list.querySelector('input[value="%s"]'.format(v))).join(' '));
		}

		/*
		 * The validator of a name typed into the custom field; for nothing
		 * typed (nothing added), the widget's own, on no value chosen.
		 */
		static typedValidation(options) {
			return { datatype: options.datatype ?? 'string', optional: options.optional ?? true, validate: options.validate };
		}
	}

	/*
	 * ui.DynamicList: items, each removable, and a field to add one. Only
	 * the field has a validator (the datatype, or 'string'): items from the
	 * configuration are not checked. The list's value includes valid text
	 * left in the field, as LuCI's does.
	 */
	class DynamicList extends UIElement {
		constructor(values, choices, options) {
			super(values, Object.assign({}, options, { multiple: false, optional: true }));
			this.values = Array.isArray(values) ? values.slice() : ((values != null && values != '') ? [ values ] : []);
		}

		render() {
			const dl = E('div', { 'id': this.options.id, 'class': 'cbi-dynlist' });
			const input = E('input', { 'id': this.options.id ? 'widget.' + this.options.id : null, 'type': 'text', 'class': 'cbi-input-text add-item', 'placeholder': this.options.placeholder });
			this.items = E('div', { 'class': 'items' });
			this.input = input;
			this.node = dl;

			dl.appendChild(this.items);
			dl.appendChild(E('div', { 'class': 'add-item control-group' }, [ input, E('button', { 'class': 'cbi-button cbi-button-add', 'type': 'button', 'click': () => {
				if (input.value.length && !input.classList.contains('cbi-input-invalid')) {
					this.addItem(input.value);
					input.value = '';
				}
			} }, '+') ]));

			if (this.options.datatype || this.options.validate)
				addValidator(input, this.options.datatype ?? 'string', true, this.options.validate, 'blur', 'keyup');

			for (const v of this.values)
				this.addItem(v, true);

			this.bindNode(dl);
			this.setUpdateEvents(dl, 'cbi-dynlist-change');
			this.setChangeEvents(dl, 'cbi-dynlist-change');
			return dl;
		}

		addItem(value, quiet) {
			const item = E('div', { 'class': 'item', 'data-value': value }, [
				E('span', value), ' ',
				E('input', { 'type': 'hidden', 'value': value }),
				E('button', { 'class': 'cbi-button cbi-button-remove', 'type': 'button', 'click': () => {
					item.remove();
					this.node.dispatchEvent(new CustomEvent('cbi-dynlist-change', { bubbles: true }));
				} }, '×')
			]);
			this.items.appendChild(item);
			if (!quiet)
				this.node.dispatchEvent(new CustomEvent('cbi-dynlist-change', { bubbles: true }));
		}

		getValue() {
			if (!this.node)
				return this.values.slice();

			const v = [ ...this.items.querySelectorAll('.item > input[type="hidden"]') ].map((i) => i.value);
			const text = this.input.value;

			if (text != null && /\S/.test(text) && !this.input.classList.contains('cbi-input-invalid') && !v.includes(text))
				v.push(text);

			return v;
		}

		static typedValidation(options) {
			return { datatype: options.datatype ?? 'string', optional: true, validate: options.validate };
		}
	}

	let modalOpen = null;

	const ui = {
		AbstractElement: UIElement,
		Textfield: Textfield,
		Checkbox: Checkbox,
		Select: Select,
		Dropdown: Dropdown,
		DynamicList: DynamicList,

		showModal(title, children, cls) {
			ui.hideModal();
			modalOpen = E('div', { 'id': 'modal_overlay' }, E('div', { 'class': 'modal ' + (cls || '') }, [
				title ? E('h4', title) : null,
				E('div', { 'class': 'modal-body' }, children)
			].filter((n) => n != null)));
			document.body.appendChild(modalOpen);
			document.body.classList.add('modal-overlay-active');
			return modalOpen;
		},

		hideModal() {
			if (modalOpen)
				modalOpen.remove();
			modalOpen = null;
			document.body.classList.remove('modal-overlay-active');
		},

		addNotification(title, children, cls) {
			const area = document.getElementById('notifications') || document.body;
			const n = E('div', { 'class': 'alert-message ' + (cls || '') }, [ title ? E('h4', title) : null, E('div', children) ].filter((x) => x != null));
			area.appendChild(n);
			return n;
		},

		/* ui.createHandlerFn(): the button is busy while the handler's promise runs. */
		createHandlerFn(ctx, fn) {
			const args = Array.prototype.slice.call(arguments, 2);
			const handler = (typeof(fn) == 'string') ? ctx[fn] : fn;

			return (ev) => {
				const button = ev.currentTarget;
				button.classList.add('spinning');
				button.disabled = true;
				return Promise.resolve(handler.apply(ctx, args.concat([ ev ]))).finally(() => {
					button.classList.remove('spinning');
					button.disabled = false;
				});
			};
		},

		changes: {
			status(cls, message) {
				let box = document.getElementById('applyreboot-status');
				if (!box)
					box = document.body.appendChild(E('div', { 'id': 'applyreboot-status' }));
				box.className = 'alert-message ' + cls;
				dom.content(box, message);
			},

			/* ui.js changes.apply(): apply with rollback, then confirm, then reload the page. */
			apply(checked) {
				const form = (q) => Object.keys(q).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(q[k])).join('&');

				this.status('notice spinning', _('Starting configuration apply…'));

				return post(L.url('admin/uci', checked ? 'apply_rollback' : 'apply_unchecked'),
					form({ sid: L.env.sessionid, token: L.env.token }), 'application/x-www-form-urlencoded')
					.then((res) => {
						if (checked && res.status === 204) {
							this.status('notice', _('There are no changes to apply'));
							return;
						}
						if (res.status !== (checked ? 200 : 204)) {
							this.status('warning', _('Apply request failed with status %s').format(res.status));
							return;
						}

						return (checked ? res.json() : Promise.resolve({})).then((tok) => post(L.url('admin/uci/confirm'),
							form(Object.assign({ sid: L.env.sessionid }, tok || {})), 'application/x-www-form-urlencoded'))
							.then((r) => {
								if (r.status !== 200 && r.status !== 204) {
									this.status('warning', _('Confirm request failed with status %s').format(r.status));
									return;
								}
								this.status('notice', _('Configuration changes applied.'));
								window.setTimeout(() => { window.location = window.location.href.split('#')[0]; }, L.env.apply_display * 1000);
							});
					});
			}
		},

		instantiateView(path) {
			return L.require('view.' + path.replace(/\//g, '.')).catch((e) => {
				ui.addNotification(null, E('pre', e.stack || e.message), 'error');
				throw e;
			});
		}
	};

	L.ui = ui;
	L.modules.ui = ui;

	/* ---- form (form.js) ---- */

	/* form.js isEqual(): a string and an array are not equal, even as ['x'] and 'x'. */
	function isEqual(x, y) {
		if (x != null && y != null && typeof(x) != typeof(y))
			return false;

		if ((x == null && y != null) || (x != null && y == null))
			return false;

		if (Array.isArray(x)) {
			if (x.length != y.length)
				return false;
			for (let i = 0; i < x.length; i++)
				if (!isEqual(x[i], y[i]))
					return false;
		}
		else if (typeof(x) == 'object') {
			for (const k in x)
				if (Object.prototype.hasOwnProperty.call(x, k) && (!Object.prototype.hasOwnProperty.call(y, k) || !isEqual(x[k], y[k])))
					return false;
			for (const k in y)
				if (Object.prototype.hasOwnProperty.call(y, k) && !Object.prototype.hasOwnProperty.call(x, k))
					return false;
		}
		else if (x != y) {
			return false;
		}

		return true;
	}

	class AbstractElement {
		constructor(title, description) {
			this.title = title || '';
			this.description = description || '';
			this.children = [];
		}

		append(child) { this.children.push(child); }

		stripTags(s) {
			return String(s || '').replace(/<[^>]*>/g, '');
		}

		titleFn(attr, section_id) {
			const v = this[attr];
			return (typeof(v) == 'function') ? v.call(this, section_id) : (v != null ? v : null);
		}
	}

	class FormMap extends AbstractElement {
		constructor(config, title, description) {
			super(title, description);
			this.config = config;
			this.data = uci;
			this.parsechain = [ config ];
		}

		section(cls) {
			const args = Array.prototype.slice.call(arguments, 1);
			const s = new cls(this, ...args);
			this.append(s);
			return s;
		}

		load() {
			return this.data.load(this.parsechain).then(() => Promise.all(this.children.map((s) => s.load())));
		}

		parse() {
			return Promise.all(this.children.map((s) => s.parse()));
		}

		/*
		 * form.js Map.save(): every field validated again (checkDepends), then
		 * parse, stage, reload, render; errors in a modal unless silent.
		 */
		save(cb, silent) {
			this.checkDepends();

			return this.parse()
				.then(cb)
				.then(() => this.data.save())
				.then(() => this.load())
				.catch((e) => {
					if (!silent && hasDOM) {
						ui.showModal(_('Save error'), [
							E('p', {}, [ _('An error occurred while saving the form:') ]),
							E('p', {}, [ E('em', { 'style': 'white-space:pre-wrap', 'class': 'save-error' }, [ e.message ]) ]),
							E('div', { 'class': 'right' }, [ E('button', { 'class': 'cbi-button', 'click': ui.hideModal }, [ _('Dismiss') ]) ])
						]);
					}
					return Promise.reject(e);
				})
				.then(() => this.renderContents());
		}

		reset() { return this.renderContents(); }

		render() {
			if (global.WSFLOWD_LUCI_HEADLESS)
				return this.load().then(() => this);
			return this.load().then(() => this.renderContents());
		}

		renderContents() {
			return Promise.all(this.children.map((s) => s.render())).then((nodes) => {
				const map = this.root || E('div', { 'class': 'cbi-map', 'id': 'cbi-' + this.config });
				dom.content(map, [
					this.title ? E('h2', { 'name': 'content' }, this.title) : null,
					this.description ? E('div', { 'class': 'cbi-map-descr' }, this.description) : null
				].filter((n) => n != null).concat(nodes));
				if (!this.root) {
					this.root = map;
					dom.bindClassInstance(map, this);
				}
				this.checkDepends();
				return map;
			});
		}

		findElement(attr, value) {
			return this.root ? this.root.querySelector('[%s="%s"]'.format(attr, value)) : null;
		}

		/* Without dependencies between options, what is left of form.js checkDepends(): every field validated. */
		checkDepends() {
			for (const s of this.children)
				for (const sid of s.cfgsections())
					for (const o of s.children)
						if (o.isActive(sid))
							o.triggerValidation(sid);
		}
	}

	class AbstractSection extends AbstractElement {
		constructor(map, sectiontype, title, description) {
			super(title, description);
			this.map = map;
			this.sectiontype = sectiontype;
			this.tabs = null;
			this.tab_names = [];
		}

		filter() { return true; }

		tab(name, title, description) {
			this.tabs = this.tabs || {};
			this.tabs[name] = { name: name, title: title, description: description, children: [] };
			this.tab_names.push(name);
		}

		option(cls, name, title, description) {
			const o = new cls(this.map, this, name, title, description);
			this.append(o);
			return o;
		}

		taboption(tabname, cls, name, title, description) {
			const o = this.option(cls, name, title, description);
			o.tab = tabname;
			this.tabs[tabname].children.push(o);
			return o;
		}

		load() {
			const sids = this.cfgsections();
			return Promise.all(this.children.map((o) => Promise.all(sids.map((sid) => o.load(sid)))));
		}

		parse() {
			const sids = this.cfgsections();
			return Promise.all(sids.reduce((tasks, sid) => tasks.concat(this.children.map((o) => o.parse(sid))), []));
		}

		cfgvalue(section_id, option) {
			const o = this.children.find((c) => c.option == option);
			return o ? o.cfgvalue(section_id) : null;
		}

		formvalue(section_id, option) {
			const o = this.children.find((c) => c.option == option);
			if (!o)
				return null;
			return this.map.root ? o.formvalue(section_id) : o.cfgvalue(section_id);
		}

		renderOptions(tab, section_id) {
			const options = this.children.filter((o) => !tab || o.tab == tab);
			return Promise.all(options.map((o, i) => o.render(i, section_id, false)));
		}

		renderTabs(section_id) {
			if (!this.tabs)
				return this.renderOptions(null, section_id);

			return Promise.all(this.tab_names.map((t) => this.renderOptions(t, section_id))).then((panes) => {
				const menu = E('ul', { 'class': 'cbi-tabmenu' });
				const container = E('div', { 'class': 'cbi-tabs' }, menu);

				this.tab_names.forEach((t, i) => {
					const pane = E('div', { 'class': 'cbi-tabcontainer', 'id': 'container.%s.%s.%s'.format(this.map.config, section_id, t), 'data-tab': t, 'data-tab-title': this.tabs[t].title }, [
						this.tabs[t].description ? E('div', { 'class': 'cbi-tab-descr' }, this.tabs[t].description) : null
					].filter((n) => n != null).concat(panes[i]));
					const active = (this.activeTab || this.tab_names[0]) == t;
					pane.hidden = !active;
					menu.appendChild(E('li', { 'class': active ? 'cbi-tab' : 'cbi-tab-disabled', 'data-tab': t }, E('a', { 'href': '#', 'click': (ev) => {
						ev.preventDefault();
						this.activeTab = t;
						menu.querySelectorAll('li').forEach((li) => { li.className = (li.dataset.tab == t) ? 'cbi-tab' : 'cbi-tab-disabled'; });
						container.querySelectorAll(':scope > .cbi-tabcontainer').forEach((p) => { p.hidden = (p.dataset.tab != t); });
					} }, this.tabs[t].title)));
					container.appendChild(pane);
				});

				return container;
			});
		}
	}

	class NamedSection extends AbstractSection {
		constructor(map, section, sectiontype, title, description) {
			super(map, sectiontype, title, description);
			this.section = section;
		}

		cfgsections() { return [ this.section ]; }

		/* form.js NamedSection: a missing section is added (named) by its Add button, if addremove. */
		handleAdd() {
			this.map.data.add(this.map.config, this.sectiontype, this.section);
			return this.map.save(null, true);
		}

		handleRemove() {
			this.map.data.remove(this.map.config, this.section);
			return this.map.save(null, true);
		}

		render() {
			const sid = this.section;
			const head = [
				this.title ? E('h3', this.title) : null,
				this.description ? E('div', { 'class': 'cbi-section-descr' }, this.description) : null
			].filter((n) => n != null);

			if (this.map.data.get(this.map.config, sid) == null)
				return Promise.resolve(E('div', { 'class': 'cbi-section', 'id': 'cbi-%s-%s'.format(this.map.config, sid) }, head.concat(this.addremove
					? [ E('button', { 'class': 'cbi-button cbi-button-add', 'click': ui.createHandlerFn(this, 'handleAdd') }, this.titleFn('addbtntitle', sid) || _('Add')) ]
					: [])));

			return this.renderTabs(sid).then((nodes) => E('div', { 'class': 'cbi-section', 'data-section-id': sid }, head.concat([
				this.addremove ? E('div', { 'class': 'cbi-section-remove right' }, E('button', { 'class': 'cbi-button', 'click': ui.createHandlerFn(this, 'handleRemove') }, this.titleFn('delbtntitle', sid) || _('Delete'))) : null,
				E('div', { 'class': 'cbi-section-node', 'id': 'cbi-%s-%s'.format(this.map.config, sid), 'data-section-id': sid }, nodes)
			].filter((n) => n != null))));
		}
	}

	class TypedSection extends AbstractSection {
		cfgsections() {
			return this.map.data.sections(this.map.config, this.sectiontype).map((s) => s['.name']).filter((sid) => this.filter(sid));
		}
	}

	/*
	 * form.js GridSection: a table of the sections, editable options as
	 * widgets and the rest as text, an Edit button opening every option in
	 * a modal (Dismiss, Save), a Delete button and an Add button.
	 */
	class GridSection extends TypedSection {
		render() {
			const sids = this.cfgsections();
			const columns = this.children.filter((o) => !o.modalonly);

			return Promise.all(sids.map((sid) => Promise.all(columns.map((o, i) =>
				o.editable ? o.render(i, sid, true) : Promise.resolve(E('td', { 'class': 'td cbi-value-field', 'data-name': o.option, 'data-title': o.title, 'data-widget': 'CBI.DummyValue' }, (o.textvalue(sid) != null && o.textvalue(sid) !== '') ? o.textvalue(sid) : E('em', _('none')))))))).then((rows) => {
				const table = E('table', { 'class': 'table cbi-section-table' }, [
					E('tr', { 'class': 'tr cbi-section-table-titles' }, columns.map((o) => E('th', { 'class': 'th cbi-section-table-cell', 'data-name': o.option }, o.title)).concat([ E('th', { 'class': 'th cbi-section-table-cell cbi-section-actions' }) ]))
				].concat(sids.map((sid, r) => E('tr', { 'class': 'tr cbi-section-table-row', 'id': 'cbi-%s-%s'.format(this.map.config, sid), 'data-sid': sid }, rows[r].concat([
					E('td', { 'class': 'td cbi-section-table-cell nowrap cbi-section-actions' }, E('div', [
						E('button', { 'class': 'btn cbi-button cbi-button-edit', 'type': 'button', 'title': _('Edit this section'), 'click': ui.createHandlerFn(this, 'renderMoreOptionsModal', sid) }, _('Edit')), ' ',
						this.addremove ? E('button', { 'class': 'btn cbi-button cbi-button-remove', 'type': 'button', 'title': _('Delete this section'), 'click': ui.createHandlerFn(this, 'handleRemove', sid) }, _('Delete')) : null
					].filter((n) => n != null)))
				])))).concat(sids.length ? [] : [ E('tr', { 'class': 'tr placeholder' }, E('td', { 'class': 'td', 'colspan': columns.length + 1 }, E('em', _('This section contains no values yet')))) ]));

				return E('div', { 'class': 'cbi-section cbi-tblsection', 'id': 'cbi-%s-%s'.format(this.map.config, this.sectiontype), 'data-section-title': this.title }, [
					this.title ? E('h3', this.title) : null,
					this.description ? E('div', { 'class': 'cbi-section-descr' }, this.description) : null,
					table,
					this.addremove ? E('div', { 'class': 'cbi-section-create' }, E('button', { 'class': 'btn cbi-button cbi-button-add', 'type': 'button', 'click': ui.createHandlerFn(this, 'handleAdd') }, this.addbtntitle || _('Add'))) : null
				].filter((n) => n != null));
			});
		}

		/* GridSection parse(): only the options edited in the table. */
		parse() {
			const sids = this.cfgsections();
			return Promise.all(sids.reduce((tasks, sid) => tasks.concat(this.children.filter((o) => o.editable && !o.modalonly).map((o) => o.parse(sid))), []));
		}

		handleAdd() {
			const sid = this.map.data.add(this.map.config, this.sectiontype);
			this.map.addedSection = sid;
			return this.renderMoreOptionsModal(sid);
		}

		handleRemove(sid) {
			this.map.data.remove(this.map.config, sid);
			return this.map.save(null, true);
		}

		/* A Map of its own over this one section, with every option. */
		renderMoreOptionsModal(section_id) {
			const parent = this.map;
			const m = new FormMap(parent.config, null, null);
			const s = m.section(NamedSection, section_id, this.sectiontype);

			m.parent = parent;
			for (const o of this.children) {
				const clone = Object.create(o);
				clone.map = m;
				clone.section = s;
				clone.modalonly = false;
				clone.editable = true;
				s.children.push(clone);
			}

			return m.render().then((nodes) => {
				ui.showModal(this.titleFn('modaltitle', section_id) || parent.title, [
					nodes,
					E('div', { 'class': 'button-row' }, [
						E('button', { 'class': 'btn cbi-button', 'type': 'button', 'click': ui.createHandlerFn(this, 'handleModalCancel', m, false) }, [ _('Dismiss') ]), ' ',
						E('button', { 'class': 'btn cbi-button cbi-button-positive important', 'type': 'button', 'click': ui.createHandlerFn(this, 'handleModalSave', m) }, [ _('Save') ])
					])
				], 'cbi-modal');
			});
		}

		/* Save of the modal: its map is saved silently; invalid input keeps the modal open. */
		handleModalSave(m) {
			return m.save(null, true)
				.then(() => this.map.load())
				.then(() => this.map.reset())
				.then(() => this.handleModalCancel(m, true))
				.catch(() => {});
		}

		handleModalCancel(m, saving) {
			if (this.map.addedSection != null && !saving)
				this.map.data.remove(this.map.config, this.map.addedSection);
			delete this.map.addedSection;
			ui.hideModal();
			return this.map.reset();
		}
	}

	class AbstractValue extends AbstractElement {
		constructor(map, section, option, title, description) {
			super(title, description);
			this.map = map;
			this.section = section;
			this.option = option;
			this.rmempty = true;
			this.default = null;
			this.optional = false;
			this.keylist = [];
			this.vallist = [];
		}

		value(key, label) {
			this.keylist.push(String(key));
			this.vallist.push(label != null ? label : key);
		}

		cbid(section_id) { return 'cbid.%s.%s.%s'.format(this.map.config, section_id, this.option); }

		load(section_id) {
			return this.map.data.get(this.map.config, section_id, this.option);
		}

		cfgvalue(section_id) {
			return this.map.data.get(this.map.config, section_id, this.option);
		}

		/* The widget whose node has the option's cbid as id. */
		getUIElement(section_id) {
			const node = this.map.findElement('id', this.cbid(section_id));
			const inst = node ? dom.findClassInstance(node) : null;
			return (inst instanceof UIElement) ? inst : null;
		}

		formvalue(section_id) {
			const elem = this.getUIElement(section_id);
			return elem ? elem.getValue() : null;
		}

		textvalue(section_id) {
			let v = this.cfgvalue(section_id);
			if (v == null)
				v = this.default;
			if (Array.isArray(v))
				v = v.join(' ');
			return (v != null) ? String(v) : null;
		}

		validate() { return true; }

		/* form.js getValidator(): validate, or each of an array of them in turn. */
		getValidator(section_id) {
			if (Array.isArray(this.validate)) {
				const validators = this.validate;
				return (value) => {
					for (const fn of validators) {
						if (typeof(fn) == 'function') {
							const result = fn.call(this, section_id, value);
							if (result !== true)
								return result;
						}
					}
					return true;
				};
			}
			return (value) => this.validate(section_id, value);
		}

		isValid(section_id) {
			const elem = this.getUIElement(section_id);
			return elem ? elem.isValid() : true;
		}

		getValidationError(section_id) {
			const elem = this.getUIElement(section_id);
			return elem ? elem.getValidationError() : '';
		}

		triggerValidation(section_id) {
			const elem = this.getUIElement(section_id);
			return elem ? elem.triggerValidation() : true;
		}

		isActive(section_id) {
			const field = this.map.findElement('data-field', this.cbid(section_id));
			return field != null && !field.classList.contains('hidden');
		}

		/*
		 * form.js AbstractValue.parse(): refused while invalid; empty removes
		 * (or is refused if required); a value unlike the stored one written;
		 * an option not on the page removed unless `retain`.
		 */
		parse(section_id) {
			const active = this.isActive(section_id);

			if (active && !this.isValid(section_id)) {
				const title = this.stripTags(this.title).trim();
				return Promise.reject(new TypeError(_('Option "%s" contains an invalid input value.').format(title || this.option) + ' ' + this.getValidationError(section_id)));
			}

			if (active) {
				const cval = this.cfgvalue(section_id);
				const fval = this.formvalue(section_id);

				if (fval == null || fval == '') {
					if (this.rmempty || this.optional)
						return Promise.resolve(this.remove(section_id));

					const title = this.stripTags(this.title).trim();
					return Promise.reject(new TypeError(_('Option "%s" must not be empty.').format(title || this.option)));
				}
				else if (this.forcewrite || !isEqual(cval, fval)) {
					return Promise.resolve(this.write(section_id, fval));
				}
			}
			else if (!this.retain) {
				return Promise.resolve(this.remove(section_id));
			}

			return Promise.resolve();
		}

		write(section_id, value) { return this.map.data.set(this.map.config, section_id, this.option, value); }
		remove(section_id) { return this.map.data.unset(this.map.config, section_id, this.option); }

		/* What form.js passes the widget of this option. */
		widgetOptions(section_id) {
			return {
				id: this.cbid(section_id),
				datatype: this.datatype,
				validate: this.getValidator(section_id),
				optional: this.optional || this.rmempty,
				placeholder: this.placeholder
			};
		}

		/* form.js Value: a Textfield (a list is shown joined by spaces). */
		renderWidget(section_id, option_index, cfgvalue) {
			const value = (cfgvalue != null) ? cfgvalue : this.default;
			return new Textfield(Array.isArray(value) ? value.join(' ') : value, this.widgetOptions(section_id));
		}

		/*
		 * How the field where a value is typed validates it: datatype,
		 * optional and validate function, as the widget sets up its
		 * validator (for tests/luci/form-schema.js).
		 */
		typedValidation(section_id) {
			return this.constructor.widgetClass.typedValidation(this.widgetOptions(section_id));
		}

		/* form.js renderFrame(): the container with data-field, the widget's node inside. */
		render(option_index, section_id, in_table) {
			return Promise.resolve(this.cfgvalue(section_id)).then((cfgvalue) => {
				const node = this.renderWidget(section_id, option_index, cfgvalue).render();
				const cid = 'cbi-%s-%s-%s'.format(this.map.config, section_id, this.option);
				let optionEl;

				if (in_table) {
					optionEl = E('td', { 'class': 'td cbi-value-field', 'data-name': this.option, 'data-title': this.title, 'data-widget': this.constructor.widgetName },
						E('div', { 'id': cid, 'data-index': option_index, 'data-field': this.cbid(section_id) }, node));
				}
				else {
					optionEl = E('div', { 'class': 'cbi-value', 'id': cid, 'data-index': option_index, 'data-field': this.cbid(section_id), 'data-name': this.option, 'data-widget': this.constructor.widgetName }, [
						E('label', { 'class': 'cbi-value-title', 'for': 'widget.' + this.cbid(section_id) }, this.title),
						E('div', { 'class': 'cbi-value-field' }, [
							node,
							(this.description && !this.section.nodescriptions) ? E('div', { 'class': 'cbi-value-description' }, this.description) : null
						].filter((n) => n != null))
					]);
				}

				if (typeof(this.onchange) == 'function') {
					const state = {};
					optionEl.addEventListener('widget-change', (ev) => {
						const value = this.formvalue(section_id);
						if (isEqual(value, state.previousValue))
							return;
						state.previousValue = value;
						this.onchange.call(this, ev, section_id, value);
					});
				}

				return optionEl;
			});
		}
	}

	class Value extends AbstractValue {}
	Value.widgetName = 'CBI.Value';
	AbstractValue.widgetClass = Textfield;

	class DummyValue extends AbstractValue {
		renderWidget(section_id, option_index, cfgvalue) {
			const w = new UIElement(cfgvalue, {});
			w.render = () => E('div', {}, (cfgvalue != null) ? String(cfgvalue) : '-');
			return w;
		}

		parse() { return Promise.resolve(); }
		write() {}
		remove() {}
	}
	DummyValue.widgetName = 'CBI.DummyValue';

	class ListValue extends AbstractValue {
		renderWidget(section_id, option_index, cfgvalue) {
			const choices = {};
			if (this.optional)
				choices[''] = _('-- Please choose --');
			this.keylist.forEach((k, i) => { choices[k] = this.vallist[i]; });
			return new Select((cfgvalue != null) ? cfgvalue : this.default, choices, Object.assign(this.widgetOptions(section_id), { sort: Object.keys(choices) }));
		}

		textvalue(section_id) {
			let v = this.cfgvalue(section_id);
			if (v == null)
				v = this.default;
			const i = this.keylist.indexOf(String(v));
			return (i > -1) ? String(this.vallist[i]) : (v != null ? String(v) : null);
		}
	}
	ListValue.widgetName = 'CBI.ListValue';
	ListValue.widgetClass = Select;

	class Flag extends ListValue {
		constructor() {
			super(...arguments);
			this.enabled = '1';
			this.disabled = '0';
			this.default = this.disabled;
		}

		renderWidget(section_id, option_index, cfgvalue) {
			return new Checkbox((cfgvalue != null) ? cfgvalue : this.default, Object.assign(this.widgetOptions(section_id), {
				value_enabled: this.enabled,
				value_disabled: this.disabled
			}));
		}

		formvalue(section_id) {
			const elem = this.getUIElement(section_id);
			return (elem && elem.isChecked()) ? this.enabled : this.disabled;
		}

		textvalue(section_id) {
			let v = this.cfgvalue(section_id);
			if (v == null)
				v = this.default;
			return (v == this.enabled) ? _('Yes') : _('No');
		}

		/*
		 * form.js FlagValue.parse(): written unless it equals the default and
		 * may be removed; an option not on the page removed unless `retain`.
		 */
		parse(section_id) {
			if (!this.isActive(section_id))
				return Promise.resolve(this.retain ? undefined : this.remove(section_id));

			const fval = this.formvalue(section_id);

			if (!this.isValid(section_id))
				return Promise.reject(new TypeError(_('Option "%s" contains an invalid input value.').format(this.stripTags(this.title).trim() || this.option) + ' ' + this.getValidationError(section_id)));

			if (fval == this.default && (this.optional || this.rmempty))
				return Promise.resolve(this.remove(section_id));

			return Promise.resolve(this.write(section_id, fval));
		}
	}
	Flag.widgetName = 'CBI.FlagValue';
	Flag.widgetClass = Checkbox;

	class DynamicListValue extends AbstractValue {
		renderWidget(section_id, option_index, cfgvalue) {
			return new DynamicList(L.toArray((cfgvalue != null) ? cfgvalue : this.default), null, this.widgetOptions(section_id));
		}
	}
	DynamicListValue.widgetName = 'CBI.DynamicList';
	DynamicListValue.widgetClass = DynamicList;

	/*
	 * form.js CBIMultiValue: a DynamicList drawn as a multiple ui.Dropdown
	 * of its choices, in the order given, with the option's validator
	 * (datatype and validate function).
	 */
	class MultiValue extends DynamicListValue {
		constructor() {
			super(...arguments);
			this.placeholder = _('-- Please choose --');
		}

		renderWidget(section_id, option_index, cfgvalue) {
			const value = (cfgvalue != null) ? cfgvalue : this.default;
			const choices = {};
			this.keylist.forEach((k, i) => { choices[k] = this.vallist[i]; });
			return new Dropdown(L.toArray(value), choices, {
				id: this.cbid(section_id),
				sort: this.keylist,
				multiple: true,
				optional: this.optional || this.rmempty,
				select_placeholder: this.placeholder,
				create: this.create,
				validate: this.getValidator(section_id)
			});
		}
	}
	MultiValue.widgetName = 'CBI.MultiValue';
	MultiValue.widgetClass = Dropdown;

	const form = {
		Map: FormMap,
		AbstractSection: AbstractSection,
		NamedSection: NamedSection,
		TypedSection: TypedSection,
		TableSection: GridSection,
		GridSection: GridSection,
		AbstractValue: AbstractValue,
		Value: Value,
		DummyValue: DummyValue,
		ListValue: ListValue,
		Flag: Flag,
		DynamicList: DynamicListValue,
		MultiValue: MultiValue
	};

	L.modules.form = form;

	/* ---- network (network.js), the devices part ---- */

	const callNetworkDevices = rpc.declare({ object: 'luci-rpc', method: 'getNetworkDevices', expect: { '': {} } });
	const callWirelessDevices = rpc.declare({ object: 'luci-rpc', method: 'getWirelessDevices', expect: { '': {} } });

	class Device {
		constructor(dev, wifi) {
			this.dev = dev;
			this.wifi = wifi;
		}

		getName() { return this.dev.name; }
		getType() {
			if (this.wifi || this.dev.devtype == 'wlan')
				return 'wifi';
			if (this.dev.devtype == 'bridge')
				return 'bridge';
			return 'ethernet';
		}

		isUp() { return !!this.dev.up; }
		getNetworks() { return []; }
		getI18n() {
			if (this.wifi)
				return _('Wireless Network: %s').format(this.wifi.ssid ? '"%s"'.format(this.wifi.ssid) : this.dev.name);
			return (this.getType() == 'bridge' ? _('Bridge') : _('Network device')) + ': "%s"'.format(this.dev.name);
		}
	}

	const network = {
		/* network.js getDevices(): the devices with their Wi-Fi networks. */
		getDevices() {
			return Promise.all([ L.resolveDefault(callNetworkDevices(), {}), L.resolveDefault(callWirelessDevices(), {}) ]).then(([ devs, radios ]) => {
				const wifi = {};
				for (const r in radios)
					for (const i of (radios[r].interfaces || []))
						if (i.ifname)
							wifi[i.ifname] = Object.assign({ ssid: (i.config || {}).ssid }, i);

				return Object.keys(devs).sort(L.naturalCompare).map((name) => new Device(Object.assign({ name: name }, devs[name]), wifi[name]));
			});
		},

		getNetworks() { return Promise.resolve([]); }
	};

	L.modules.network = network;

	/* ---- tools.widgets: DeviceSelect (widgets.js) ---- */

	class DeviceSelect extends ListValue {
		load(section_id) {
			return network.getDevices().then((devices) => {
				this.devices = devices;
				return super.load(section_id);
			});
		}

		filter() { return true; }

		/*
		 * widgets.js DeviceSelect: the devices, then the configured names
		 * that are absent, in a Dropdown. It passes the Dropdown its validate
		 * function but not its datatype.
		 */
		widgetOptions(section_id) {
			return {
				id: this.cbid(section_id),
				optional: this.optional || this.rmempty,
				validate: this.getValidator(section_id),
				create: !this.nocreate,
				multiple: this.multiple
			};
		}

		renderWidget(section_id, option_index, cfgvalue) {
			const checked = {};
			const choices = {};
			const order = [];
			let values = [];

			for (const v of L.toArray((cfgvalue != null) ? cfgvalue : this.default))
				checked[v] = true;

			if (!this.multiple && (this.rmempty || this.optional))
				choices[''] = E('em', _('unspecified'));

			for (const device of (this.devices || [])) {
				const name = device.getName();
				if (name == 'lo' || name == this.exclude || !this.filter(section_id, name))
					continue;
				choices[name] = E('span', { 'title': device.getI18n(), 'data-type': device.getType() }, [ name, ' ', E('small', '(%s)'.format(device.getI18n())) ]);
				order.push(name);
				if (checked[name])
					values.push(name);
			}

			if (!this.nocreate)
				for (const v of Object.keys(checked).sort(L.naturalCompare))
					if (!Object.prototype.hasOwnProperty.call(choices, v)) {
						choices[v] = E('span', { 'title': _('Absent Interface') }, [ v, ' ', E('small', '(%s)'.format(_('Absent Interface'))) ]);
						order.push(v);
						values.push(v);
					}

			if (!this.multiple)
				values = values[0];

			return new Dropdown(values, choices, Object.assign(this.widgetOptions(section_id), { sort: order }));
		}

		textvalue(section_id) {
			const v = this.cfgvalue(section_id);
			return (v != null) ? L.toArray(v).join(' ') : null;
		}
	}
	DeviceSelect.widgetName = 'CBI.DeviceSelect';
	DeviceSelect.widgetClass = Dropdown;

	L.modules['tools.widgets'] = { DeviceSelect: DeviceSelect };

	/* ---- view (luci.js) ---- */

	class View {
		constructor() {
			if (global.WSFLOWD_LUCI_HEADLESS)
				return;

			const vp = document.getElementById('view');
			dom.content(vp, E('div', { 'class': 'spinning' }, _('Loading view…')));

			Promise.resolve(this.load())
				.then((data) => this.render(data))
				.then((nodes) => {
					dom.content(vp, nodes);
					dom.append(vp, this.addFooter());
					document.body.setAttribute('data-view-ready', 'true');
				})
				.catch((e) => {
					dom.content(vp, E('pre', { 'class': 'alert-message error' }, e.stack || e.message));
					document.body.setAttribute('data-view-ready', 'error');
				});
		}

		load() {}
		render() {}

		handleSave() {
			const tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach((map) => {
				tasks.push(dom.callClassMethod(map, 'save'));
			});
			return Promise.all(tasks);
		}

		handleSaveApply(ev, mode) {
			return this.handleSave(ev).then(() => { ui.changes.apply(mode == '0'); });
		}

		handleReset() {
			const tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach((map) => {
				tasks.push(dom.callClassMethod(map, 'reset'));
			});
			return Promise.all(tasks);
		}

		addFooter() {
			const footer = E('div', { 'class': 'cbi-page-actions' });
			if (this.handleSaveApply)
				footer.appendChild(E('button', { 'class': 'cbi-button cbi-button-apply', 'id': 'save-apply', 'click': ui.createHandlerFn(this, 'handleSaveApply', '1') }, _('Save & Apply')));
			if (this.handleSave)
				footer.appendChild(E('button', { 'class': 'cbi-button cbi-button-save', 'id': 'save', 'click': ui.createHandlerFn(this, 'handleSave') }, _('Save')));
			if (this.handleReset)
				footer.appendChild(E('button', { 'class': 'cbi-button cbi-button-reset', 'id': 'reset', 'click': ui.createHandlerFn(this, 'handleReset') }, _('Reset')));
			return footer;
		}

		static extend(props) { return extend(this, props); }
	}

	L.modules.view = View;
	L.view = View;
	L.poll = poll;
	L.uci = uci;
	L.form = form;
	L.rpc = rpc;
})(typeof window !== 'undefined' ? window : globalThis);
