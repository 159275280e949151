'use strict';
'require view';
'require form';
'require rpc';
'require uci';
'require ui';
'require tools.widgets as widgets';

/*
 * Settings of wsflowd, the sFlow agent: /etc/config/wsflowd.
 *
 * Every option written here is one the daemon reads, with the daemon's
 * limits (src/config/mod.rs, SCHEMA): tests/luci_app.rs builds this form
 * and compares each option, its datatype and what it accepts with the
 * daemon's own checks. The checks below that go beyond LuCI's datatypes
 * (addresses, interface names, BSSIDs, plain decimal numbers, room for a
 * sampled header in a datagram) follow the daemon's code line by line.
 */

const callNetworkDevices = rpc.declare({
	object: 'luci-rpc',
	method: 'getNetworkDevices',
	expect: { '': {} }
});

const callStatus = rpc.declare({
	object: 'wsflowd',
	method: 'status'
});

/* Link type of monitor interfaces: radiotap headers (ARPHRD_IEEE80211_RADIOTAP). */
const ARPHRD_RADIOTAP = 803;
/* Bytes a datagram keeps beyond one sampled header (DATAGRAM_HEADROOM). */
const DATAGRAM_HEADROOM = 256;
const DEFAULT_HEADER_BYTES = 128;
const DEFAULT_DATAGRAM_BYTES = 1400;

function expecting(what) {
	return _('Expecting: %s').format(what);
}

function utf8Length(text) {
	return new TextEncoder().encode(text).length;
}

/* The kernel's dev_valid_name(), as the daemon checks it. */
function isInterfaceName(name) {
	if (name === '' || name === '.' || name === '..' || utf8Length(name) >= 16)
		return false;

	/* '/', ':', C isspace() and the byte 0xA0 (in UTF-8, U+0080 and up may hold it). */
	const bytes = new TextEncoder().encode(name);
	return !bytes.some((b) => b == 0x2f || b == 0x3a || b == 0x20 || (b >= 0x09 && b <= 0x0d) || b == 0xa0);
}

/*
 * Rust's Ipv4Addr and Ipv6Addr parsers (core::net::parser), which the
 * daemon uses: four decimal octets without leading zeros; eight groups of
 * one to four hex digits, one '::' standing for at least one group, an
 * IPv4 address in the last two groups, no zone, no brackets.
 */
function IpParser(text) {
	this.text = text;
	this.pos = 0;
}

IpParser.prototype = {
	atomically(fn) {
		const start = this.pos;
		const result = fn();
		if (result == null)
			this.pos = start;
		return result;
	},

	char(c) {
		if (this.text.charAt(this.pos) !== c)
			return null;
		this.pos++;
		return c;
	},

	number(radix, maxDigits, allowZeroPrefix, limit) {
		return this.atomically(() => {
			const leadingZero = this.text.charAt(this.pos) === '0';
			let result = 0, digits = 0;

			while (this.pos < this.text.length) {
				const digit = parseInt(this.text.charAt(this.pos), radix);
				if (isNaN(digit) || !/[0-9a-fA-F]/.test(this.text.charAt(this.pos)))
					break;
				this.pos++;
				result = result * radix + digit;
				digits++;
				if (result > limit || digits > maxDigits)
					return null;
			}

			if (digits == 0 || (!allowZeroPrefix && leadingZero && digits > 1))
				return null;

			return result;
		});
	},

	separated(sep, index, fn) {
		return this.atomically(() => {
			if (index > 0 && this.char(sep) == null)
				return null;
			return fn();
		});
	},

	ipv4() {
		return this.atomically(() => {
			const octets = [];
			for (let i = 0; i < 4; i++) {
				const octet = this.separated('.', i, () => this.number(10, 3, false, 255));
				if (octet == null)
					return null;
				octets.push(octet);
			}
			return octets;
		});
	},

	groups(limit) {
		let i;
		for (i = 0; i < limit; i++) {
			if (i < limit - 1 && this.separated(':', i, () => this.ipv4()) != null)
				return { size: i + 2, ipv4: true };
			if (this.separated(':', i, () => this.number(16, 4, true, 0xffff)) == null)
				return { size: i, ipv4: false };
		}
		return { size: limit, ipv4: false };
	},

	ipv6() {
		return this.atomically(() => {
			const head = this.groups(8);
			if (head.size == 8)
				return true;
			if (head.ipv4 || this.char(':') == null || this.char(':') == null)
				return null;
			this.groups(8 - (head.size + 1));
			return true;
		});
	},

	whole(fn) {
		this.pos = 0;
		return fn.call(this) != null && this.pos == this.text.length;
	}
};

function isIPv4(text) {
	return new IpParser(text).whole(IpParser.prototype.ipv4);
}

function isIPv6(text) {
	return new IpParser(text).whole(IpParser.prototype.ipv6);
}

/* The daemon's is_dns_name(). */
function isHostName(text) {
	const name = text.endsWith('.') ? text.slice(0, -1) : text;

	if (name === '' || name.length > 253)
		return false;

	const labels = name.split('.');
	const labelsOk = labels.every((label) => label !== '' && label.length <= 63 &&
		!label.startsWith('-') && !label.endsWith('-') && /^[A-Za-z0-9-]+$/.test(label));

	return labelsOk && !/^[0-9]*$/.test(labels[labels.length - 1]);
}

/* The daemon's parse_host(): a collector's address. */
function validateHost(section_id, value) {
	if (value === '')
		return true;

	const inner = /^\[([\s\S]*)\]$/.exec(value);
	if (inner)
		return isIPv6(inner[1]) ? true : expecting(_('an IPv6 address inside the brackets'));

	if (isIPv4(value) || isIPv6(value))
		return true;

	if (value.includes(':'))
		return /:[0-9]+$/.test(value)
			? expecting(_('an IP address or host name without a port (set the port in its own field)'))
			: expecting(_('an IPv4 address, an IPv6 address or a host name'));

	return isHostName(value) ? true : expecting(_('an IPv4 address, an IPv6 address or a host name'));
}

/* The daemon's agent_address: an IP address, or an interface whose address to use. */
function validateAgentAddress(section_id, value) {
	if (value === '')
		return true;

	const inner = /^\[([\s\S]*)\]$/.exec(value);
	const address = (inner && inner[1].includes(':')) ? inner[1] : value;

	if (isIPv4(address) || isIPv6(address))
		return true;

	if (!/^[0-9.]*$/.test(value) && isInterfaceName(value))
		return true;

	return expecting(_('an IPv4 or IPv6 address, or an interface name'));
}

function validateInterface(section_id, value) {
	if (value == null || value === '')
		return true;

	return isInterfaceName(value) ? true
		: expecting(_('an interface name of 1 to 15 characters without "/", ":" or spaces'));
}

/* An item of a monitor interface's BSS list: an interface name or a unicast BSSID. */
function validateBss(section_id, value) {
	if (value == null || value === '')
		return true;

	const mac = /^([0-9A-Fa-f]{2})([:-])[0-9A-Fa-f]{2}\2[0-9A-Fa-f]{2}\2[0-9A-Fa-f]{2}\2[0-9A-Fa-f]{2}\2[0-9A-Fa-f]{2}$/.exec(value);
	if (mac) {
		if ((parseInt(mac[1], 16) & 1) || /^00([:-]00){5}$/.test(value))
			return expecting(_('a unicast BSSID (an even first byte), not a group or all-zero address'));
		return true;
	}

	return isInterfaceName(value) ? true
		: expecting(_('an interface name or a BSSID written as a MAC address (aa:bb:cc:dd:ee:ff)'));
}

/* Integers as the daemon reads them: decimal digits only, within the datatype's range. */
function integer(option, min, max) {
	option.datatype = 'and(uinteger,range(%d,%d))'.format(min, max);
	option.validate = function(section_id, value) {
		return (value === '' || /^[0-9]+$/.test(value)) ? true : expecting(_('decimal digits only'));
	};
	return option;
}

/* A boolean as the daemon reads it (1/0, yes/no, on/off, true/false, enabled/disabled), as '1' or '0'. */
function booleanValue(value) {
	if (value == null)
		return null;

	const v = String(value).toLowerCase();

	if ([ '1', 'yes', 'on', 'true', 'enabled' ].includes(v))
		return '1';

	if ([ '0', 'no', 'off', 'false', 'disabled' ].includes(v))
		return '0';

	return value;
}

function flag(section, tab, name, title, description) {
	const o = tab ? section.taboption(tab, form.Flag, name, title, description)
		: section.option(form.Flag, name, title, description);

	o.default = '1';
	o.rmempty = false;
	o.cfgvalue = function(section_id) {
		return booleanValue(uci.get('wsflowd', section_id, this.option));
	};

	return o;
}

/* A word in any case, or an alias, shown as the word it stands for. */
function words(option, choices, aliases) {
	for (const [ value, title ] of choices)
		option.value(value, title);

	option.cfgvalue = function(section_id) {
		const v = uci.get('wsflowd', section_id, this.option);

		if (v == null)
			return null;

		const lower = String(v).toLowerCase();
		return (aliases && aliases[lower]) || lower;
	};

	return option;
}

return view.extend({
	load() {
		return Promise.all([
			uci.load('wsflowd'),
			L.resolveDefault(callNetworkDevices(), {}),
			L.resolveDefault(callStatus(), null)
		]);
	},

	/* Interfaces with radiotap headers: from the device list, or as the running agent reports them. */
	monitorDevices(devices, status) {
		const found = {};

		for (const name in devices)
			if (devices[name] && devices[name].type == ARPHRD_RADIOTAP)
				found[name] = true;

		if (status && Array.isArray(status.interfaces))
			for (const i of status.interfaces)
				if (i.monitor)
					found[i.device] = true;

		return Object.keys(found).sort();
	},

	render([ , devices, status ]) {
		const monitors = this.monitorDevices(devices, status);
		let s, o;

		const m = new form.Map('wsflowd', _('sFlow'),
			_('wsflowd samples the packets crossing this access point\'s interfaces, polls their counters and sends both to sFlow collectors as sFlow v5 datagrams, with the 802.11 details of Wi-Fi traffic. "Save & Apply" makes the running agent re-read its configuration.'));

		/* The agent section: 'agent' in the package's file, or the one there is. */
		const agent = uci.sections('wsflowd', 'agent')[0];
		const agentSid = agent ? agent['.name'] : uci.add('wsflowd', 'agent', 'agent');

		s = m.section(form.NamedSection, agentSid, 'agent', _('Agent'));
		s.tab('general', _('General Settings'));
		s.tab('advanced', _('Advanced Settings'));

		flag(s, 'general', 'enabled', _('Enable'),
			_('When off the agent idles: nothing is sampled, polled or sent.'));

		o = s.taboption('general', widgets.DeviceSelect, 'interface', _('Sampled interfaces'),
			_('Wireless networks and other devices whose packets are sampled and whose counters are polled. Interfaces that do not exist yet are watched for.'));
		o.multiple = true;
		o.noaliases = true;
		o.rmempty = true;
		o.validate = validateInterface;

		o = integer(s.taboption('general', form.Value, 'sampling_rate', _('Sampling rate'),
			_('One packet in N is sampled on every interface that does not set its own rate. Empty: chosen from each link\'s speed (one in N for N Mbit/s, at least 100; 400 on Wi-Fi).')),
			1, 16777215);
		o.placeholder = _('by link speed');

		o = integer(s.taboption('general', form.Value, 'polling_interval', _('Polling interval'),
			_('Seconds between two counter samples of each interface; 0 turns counter polling off.')),
			0, 86400);
		o.placeholder = '20';

		o = integer(s.taboption('general', form.Value, 'header_bytes', _('Header bytes'),
			_('How many bytes of each sampled packet are exported (16 to 512).')),
			16, 512);
		o.placeholder = String(DEFAULT_HEADER_BYTES);
		o.onchange = function(ev, section_id) {
			/* The datagram size must leave room for a header of this size. */
			const datagram = this.section.children.find((c) => c.option == 'datagram_bytes');
			if (datagram)
				datagram.triggerValidation(section_id);
		};

		o = integer(s.taboption('general', form.Value, 'datagram_bytes', _('Datagram size'),
			_('Largest UDP payload sent to a collector, in bytes; keep it below the path MTU. It must hold a sampled header and 256 bytes more.')),
			256, 9000);
		o.placeholder = String(DEFAULT_DATAGRAM_BYTES);
		const digitsOnly = o.validate;
		o.validate = function(section_id, value) {
			const digits = digitsOnly.call(this, section_id, value);
			if (digits !== true)
				return digits;

			const headerValue = this.section.formvalue(section_id, 'header_bytes');
			const header = /^[0-9]+$/.test(headerValue || '') ? +headerValue : DEFAULT_HEADER_BYTES;
			const datagram = (value === '') ? DEFAULT_DATAGRAM_BYTES : +value;

			if (datagram < header + DATAGRAM_HEADROOM)
				return _('Must be at least the header bytes + %d = %d bytes').format(DATAGRAM_HEADROOM, header + DATAGRAM_HEADROOM);

			return true;
		};

		o = s.taboption('advanced', form.Value, 'agent_address', _('Agent address'),
			_('The address that identifies this device to the collectors: an IP address, or an interface whose address to use. Empty: the first address of the sampled interfaces (or of their bridge).'));
		o.placeholder = _('automatic');
		o.validate = validateAgentAddress;

		integer(s.taboption('advanced', form.Value, 'sub_agent_id', _('Sub-agent ID'),
			_('Tells apart several agents that share one address.')),
			0, 4294967295).placeholder = '0';

		o = integer(s.taboption('advanced', form.Value, 'ring_kib', _('Receive ring (KiB)'),
			_('Memory shared with the kernel for the sampled packets of each interface; raise it if samples are dropped.')),
			16, 65536);
		o.placeholder = '256';

		o = words(s.taboption('advanced', form.ListValue, 'sampling_filter', _('Sampling filter'),
			_('eBPF counts every packet exactly and samples both directions; classic BPF samples received packets only.')),
		[ [ 'auto', _('eBPF if the kernel allows it, else classic') ], [ 'ebpf', _('eBPF only') ], [ 'classic', _('Classic BPF') ] ]);
		o.default = 'auto';

		o = words(s.taboption('advanced', form.ListValue, 'log_level', _('Log level')),
			[ [ 'error', _('Errors') ], [ 'warning', _('Warnings') ], [ 'info', _('Information') ], [ 'debug', _('Debugging') ] ],
			{ err: 'error', warn: 'warning', notice: 'info' });
		o.default = 'info';

		/* Collectors. */
		s = m.section(form.GridSection, 'collector', _('Collectors'),
			_('Every enabled collector receives every datagram.'));
		s.anonymous = true;
		s.addremove = true;
		s.nodescriptions = true;
		s.addbtntitle = _('Add collector');
		s.modaltitle = _('Collector');

		o = flag(s, null, 'enabled', _('Enable'));
		o.editable = true;

		o = s.option(form.Value, 'address', _('Address'),
			_('IPv4 address, IPv6 address or host name of the collector.'));
		o.rmempty = false;
		o.validate = validateHost;
		o.cfgvalue = function(section_id) {
			/* '[2001:db8::1]' means 2001:db8::1 to the daemon: shown without brackets. */
			const v = uci.get('wsflowd', section_id, 'address');
			const inner = (v != null) ? /^\[(.*:.*)\]$/.exec(v) : null;
			return (inner && isIPv6(inner[1])) ? inner[1] : v;
		};

		o = integer(s.option(form.Value, 'port', _('Port'), _('UDP port of the collector.')), 1, 65535);
		o.placeholder = '6343';

		/* Monitor interfaces: 'interface' sections of radiotap devices. */
		s = m.section(form.GridSection, 'interface', _('Monitor mode'),
			_('A monitor interface (a Wi-Fi interface in monitor mode, created under Network → Wireless) shows the 802.11 frames on its channel. Turn "Sample" on to sample them: the frames of this access point\'s networks, or of the BSSes listed, are reported with their radio details. Found here: %s.')
				.format(monitors.length ? monitors.join(', ') : _('none')));
		s.anonymous = true;
		s.addremove = true;
		s.nodescriptions = true;
		s.addbtntitle = _('Add monitor interface');
		s.modaltitle = _('Monitor interface');
		s.filter = function(section_id) {
			return monitors.includes(uci.get('wsflowd', section_id, 'device'));
		};
		s.handleAdd = function(ev) {
			const used = uci.sections('wsflowd', 'interface').map((i) => i.device);
			const free = monitors.filter((d) => !used.includes(d));

			if (!free.length) {
				ui.addNotification(null, E('p', _('No monitor interface left to add: create one under Network → Wireless (mode "Monitor").')), 'warning');
				return Promise.resolve();
			}

			const section_id = uci.add('wsflowd', 'interface');
			uci.set('wsflowd', section_id, 'device', free[0]);
			this.map.addedSection = section_id;
			return this.renderMoreOptionsModal(section_id);
		};

		o = s.option(form.ListValue, 'device', _('Device'));
		o.rmempty = false;
		for (const d of monitors)
			o.value(d);

		o = flag(s, null, 'enabled', _('Sample'),
			_('Monitor-mode sampling of this interface on or off.'));
		o.editable = true;

		o = s.option(form.DynamicList, 'bss', _('BSSes'),
			_('The access point interfaces (e.g. phy0-ap0) or BSSIDs whose frames are reported. Empty: the access point interfaces on the same radio.'));
		o.validate = validateBss;
		o.placeholder = _('AP interfaces on the same radio');

		o = words(s.option(form.ListValue, 'foreign_bss', _('Other BSSes'),
			_('What to do with the frames of other networks on the channel.')),
		[ [ 'ignore', _('Ignore') ], [ 'discard', _('Report as discarded') ] ]);
		o.default = 'ignore';

		integer(s.option(form.Value, 'sampling_rate', _('Sampling rate')), 1, 16777215).placeholder = _('agent\'s');

		/* Other per-interface settings. */
		s = m.section(form.GridSection, 'interface', _('Per-interface settings'),
			_('Settings of one interface that override the agent\'s. An interface named here is sampled even if the list above does not name it; turn "Sample" off to leave it out.'));
		s.anonymous = true;
		s.addremove = true;
		s.nodescriptions = true;
		s.addbtntitle = _('Add interface');
		s.modaltitle = _('Interface settings');
		s.filter = function(section_id) {
			return !monitors.includes(uci.get('wsflowd', section_id, 'device'));
		};

		o = s.option(widgets.DeviceSelect, 'device', _('Device'));
		o.noaliases = true;
		o.rmempty = false;
		o.validate = validateInterface;

		o = flag(s, null, 'enabled', _('Sample'));
		o.editable = true;

		integer(s.option(form.Value, 'sampling_rate', _('Sampling rate')), 1, 16777215).placeholder = _('agent\'s');
		integer(s.option(form.Value, 'polling_interval', _('Polling interval')), 0, 86400).placeholder = _('agent\'s');

		o = integer(s.option(form.Value, 'ring_kib', _('Receive ring (KiB)')), 16, 65536);
		o.placeholder = _('agent\'s');
		o.modalonly = true;

		return m.render();
	}
});
