/*
 * Builds the form of a LuCI view in node, with the test shim of LuCI
 * (shim/luci.js) and no DOM, and prints what the form writes: every
 * option with its section type, widget, datatype and settings, and, for
 * each case given on standard input, whether the option's validation
 * (datatype and validate function, as LuCI runs them) accepts the value.
 *
 *   node form-schema.js VIEW.js < cases.json > result.json
 *
 * cases.json: { "uci": { package values as 'uci get' returns them },
 *               "devices": { luci-rpc getNetworkDevices reply },
 *               "cases": [ { "section": TYPE, "option": NAME, "value": TEXT,
 *                            "set": { OPTION: VALUE, ... } }, ... ] }
 * "set" stages values in the section first (datagram_bytes reads the
 * header_bytes field). Used by tests/luci_app.rs.
 */
'use strict';

const fs = require('fs');
const path = require('path');

globalThis.WSFLOWD_LUCI_HEADLESS = true;
require(path.join(__dirname, 'shim', 'luci.js'));

const L = globalThis.L;
const input = JSON.parse(fs.readFileSync(0, 'utf8'));

/* The ubus calls the view makes while loading, answered from the input. */
globalThis.fetch = function(url, init) {
	const msg = JSON.parse(init.body);
	const [ , object, method, args ] = msg.params;
	let result;

	if (object == 'uci' && method == 'get')
		result = (args.config == 'wsflowd') ? [ 0, { values: input.uci } ] : [ 4 ];
	else if (object == 'luci-rpc' && method == 'getNetworkDevices')
		result = [ 0, input.devices || {} ];
	else
		return Promise.resolve({ ok: true, json: () => Promise.resolve({ jsonrpc: '2.0', id: msg.id, error: { code: -32000, message: 'Object not found' } }) });

	return Promise.resolve({ ok: true, json: () => Promise.resolve({ jsonrpc: '2.0', id: msg.id, result: result }) });
};

function describe(section, o) {
	return {
		section: section.sectiontype,
		container: section.constructor.name,
		title: section.title,
		option: o.option,
		widget: o.constructor.widgetName,
		datatype: o.datatype || null,
		validate: o.validate !== L.modules.form.AbstractValue.prototype.validate,
		rmempty: !!o.rmempty,
		optional: !!o.optional,
		default: (o.default != null) ? String(o.default) : null,
		multiple: !!o.multiple,
		choices: o.keylist.slice(),
		enabled: (o.enabled != null) ? o.enabled : null,
		disabled: (o.disabled != null) ? o.disabled : null,
		editable: !!o.editable,
		modalonly: !!o.modalonly
	};
}

const viewFile = process.argv[2];
const source = fs.readFileSync(viewFile, 'utf8');

L.compile('view.under.test', source).then((view) => Promise.resolve(view.load()).then((data) => view.render(data))).then((map) => {
	const options = [];
	const bySection = {};

	for (const s of map.children) {
		for (const o of s.children) {
			options.push(describe(s, o));
			(bySection[s.sectiontype] = bySection[s.sectiontype] || []).push([ s, o ]);
		}
	}

	const uci = L.modules.uci;
	const validation = L.modules.validation;

	const results = (input.cases || []).map((c) => {
		const found = (bySection[c.section] || []).filter(([ , o ]) => o.option == c.option);

		return found.map(([ s, o ]) => {
			const sid = s.cfgsections()[0] || s.section;
			for (const k in (c.set || {}))
				uci.set('wsflowd', sid, k, c.set[k]);

			const verdict = validation.check(o.datatype, o.optional || o.rmempty, (v) => o.validate(sid, v), c.value);

			for (const k in (c.set || {}))
				uci.unset('wsflowd', sid, k);

			return { container: s.constructor.name, title: s.title, widget: o.constructor.widgetName, ok: verdict === true, message: (verdict === true) ? null : verdict };
		});
	});

	process.stdout.write(JSON.stringify({ options: options, results: results }));
}).catch((e) => {
	process.stderr.write((e.stack || String(e)) + '\n');
	process.exit(1);
});
