/*
 * Builds the form of a LuCI view in node, with the test shim of LuCI
 * (shim/luci.js) and no DOM, and prints what the form writes: every
 * option with its section type, widget, datatype and settings, and, for
 * each case given on standard input, whether the option's widget accepts
 * the value typed into it: the validator that widget sets up for its text
 * field (a Textfield's, a DynamicList's "add" field, a Dropdown's "custom"
 * field), with the datatype and validate function LuCI gives it (a
 * DeviceSelect gives its Dropdown no datatype). Options chosen from a
 * list are skipped (no verdict).
 *
 *   node form-schema.js VIEW.js < cases.json > result.json
 *
 * cases.json: { "uci": { package values as 'uci get' returns them },
 *               "devices": { luci-rpc getNetworkDevices reply },
 *               "cases": [ { "section": TYPE, "option": NAME, "value": TEXT,
 *                            "set": { OPTION: VALUE, ... } }, ... ],
 *               "datatypes": [ [ DATATYPE, TEXT ], ... ] }
 * "datatypes" are checked alone (required, no validate function): the
 * result's "datatypes" holds true, the message, or "throws NAME".
 * "set" stages values in the section first (datagram_bytes reads the
 * header_bytes field). Used by tests/luci_app.rs.
 *
 * With WSFLOWD_LUCI_VALIDATION_JS set to LuCI's own validation.js (from a
 * LuCI tree, for checks by hand), that file replaces the shim's datatypes:
 * the view gets it for 'require validation', and the verdicts come from
 * its Validator.
 */
'use strict';

const fs = require('fs');
const path = require('path');

globalThis.WSFLOWD_LUCI_HEADLESS = true;
require(path.join(__dirname, 'shim', 'luci.js'));

const L = globalThis.L;
const input = JSON.parse(fs.readFileSync(0, 'utf8'));

if (process.env.WSFLOWD_LUCI_VALIDATION_JS) {
	/* As LuCI's loader runs a class file: its body as a function of its requires; cbi.js's findParent. */
	const source = fs.readFileSync(process.env.WSFLOWD_LUCI_VALIDATION_JS, 'utf8');
	globalThis.findParent = (node, selector) => node.closest(selector);
	const ValidatorFactory = new Function('baseclass', source)(L.Class);
	L.modules.validation = new ValidatorFactory();
}

/* What a validator of `validation` makes of `value` typed into a field: true or its message. */
function check(validation, datatype, optional, vfunc, value) {
	const field = {
		value: value,
		classList: { add() {}, remove() {} },
		closest() { return true; },
		setAttribute(name, v) { if (name == 'data-tooltip') this.message = v; },
		removeAttribute() {},
		dispatchEvent() {}
	};
	try {
		return validation.create(field, datatype, optional, vfunc).validate() ? true : String(field.message);
	}
	catch (e) {
		return 'throws ' + e.name;
	}
}

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
		typed: (() => {
			const v = o.typedValidation(section.cfgsections()[0] || section.section);
			return v ? { datatype: v.datatype, optional: !!v.optional } : null;
		})(),
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

			const typed = o.typedValidation(sid);
			const verdict = typed ? check(validation, typed.datatype, typed.optional, typed.validate, c.value) : null;

			for (const k in (c.set || {}))
				uci.unset('wsflowd', sid, k);

			return { container: s.constructor.name, title: s.title, widget: o.constructor.widgetName, typed: typed != null, ok: verdict === true, message: (verdict === true || verdict == null) ? null : verdict };
		});
	});

	const datatypes = (input.datatypes || []).map(([ type, value ]) => check(validation, type, false, null, value));

	process.stdout.write(JSON.stringify({ options: options, results: results, datatypes: datatypes }));
}).catch((e) => {
	process.stderr.write((e.stack || String(e)) + '\n');
	process.exit(1);
});
