'use strict';
'require view';
'require form';
'require rpc';
'require uci';
'require ui';
'require validation';
'require tools.widgets as widgets';

/*
 * Settings of wsflowd, the sFlow agent: /etc/config/wsflowd.
 *
 * Every option written here is one the daemon reads, declared once in
 * render() with the daemon's limits, through the helper of its kind in the
 * daemon's SCHEMA (src/config/mod.rs): integer(), flag(), words()...
 * tests/luci_app.rs builds this form and compares each option and what it
 * accepts with the daemon's own checks, and fails while an option of the
 * daemon is missing here. Values are checked with LuCI's datatypes
 * (validation.js). Where a datatype takes values the daemon refuses, a
 * validate function refuses them too (the checks named "narrow*" below),
 * so that the page never writes a file the daemon would not load.
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

/*
 * One of validation.js's datatypes applied to one value outside a widget,
 * through the stub validator its documentation describes: true, or LuCI's
 * own message.
 */
const datatypes = {
	factory: validation,
	apply(type, value, args) {
		if (value != null)
			this.value = value;

		return validation.types[type].apply(this, args || []);
	},
	assert(condition, message) {
		this.error = condition ? null : message;
		return !!condition;
	}
};

function datatype(type, value, args) {
	return datatypes.apply(type, value, args) ? true : expecting(datatypes.error);
}

/* LuCI's ipaddr("nomask"), which the datatypes of the address options contain. */
function isIpAddress(value) {
	return datatypes.apply('ipaddr', value, [ 'nomask' ]);
}

/*
 * The daemon reads IP addresses with Rust's parser, which refuses an
 * octet with a leading zero (010 could be meant as octal); ip4addr takes it.
 */
function narrowIpAddress(value) {
	const quad = /(?:^|:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(value);

	if (quad && quad.slice(1).some((octet) => /^0\d/.test(octet)))
		return expecting(_('an IP address without leading zeros'));

	return true;
}

/*
 * LuCI's hostname also takes '_', empty labels ("a..b"), labels of more
 * than 63 characters or with '-' first or last, and a last label of
 * digits only; the daemon (and DNS) does not.
 */
function narrowHostName(value) {
	const labels = value.replace(/\.$/, '').split('.');

	if (!labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) ||
	    /^\d+$/.test(labels[labels.length - 1]))
		return expecting(_('a host name: labels of 1 to 63 letters, digits and "-" (not first or last), the last one not all digits'));

	return true;
}

/*
 * LuCI's netdevname counts characters; the kernel counts bytes (at most
 * 15), and its isspace() takes the byte 0xA0, which the UTF-8 form of
 * some letters holds.
 */
function narrowInterfaceName(name) {
	const bytes = new TextEncoder().encode(name);

	if (bytes.length > 15 || bytes.includes(0xa0))
		return expecting(_('an interface name of at most 15 bytes that the kernel accepts (some letters outside ASCII take several bytes or are refused)'));

	return true;
}

function interfaceName(name) {
	const valid = datatype('netdevname', name);
	return (valid === true) ? narrowInterfaceName(name) : valid;
}

/*
 * The names of a multiple-choice device list. ui.Dropdown hands its
 * validator all the names chosen, joined by spaces, and the "custom" field
 * the text typed there, which it splits on whitespace into several names.
 */
function validateInterfaceList(section_id, value) {
	const names = value.split(/[ \t\n\f\r]+/).filter((name) => name !== '');

	if (value !== '' && !names.length)
		return datatype('netdevname', value);

	for (const name of names) {
		const valid = interfaceName(name);
		if (valid !== true)
			return valid;
	}

	return true;
}

function validateInterface(section_id, value) {
	return (value === '') ? true : interfaceName(value);
}

/* After datatype 'host': an IP address, or a host name. */
function validateHost(section_id, value) {
	return isIpAddress(value) ? narrowIpAddress(value) : narrowHostName(value);
}

/* After datatype 'hostname': a domain name as the daemon reads one (no '_', no empty label...); empty: none. */
function validateDomain(section_id, value) {
	if (value === '' || narrowHostName(value) === true)
		return true;

	return expecting(_('a domain name: labels of 1 to 63 letters, digits and "-" (not first or last), the last one not all digits'));
}

/* After or(ipaddr("nomask"),netdevname): an IP address, or an interface whose address to use. */
function validateAgentAddress(section_id, value) {
	if (isIpAddress(value))
		return narrowIpAddress(value);

	/* Digits and dots are a mistyped IPv4 address to the daemon, not a device. */
	if (/^[0-9.]+$/.test(value))
		return expecting(_('an IP address, or an interface name that is not all digits and dots'));

	return narrowInterfaceName(value);
}

/* After or(macaddr,netdevname): a BSSID, or an access point interface. */
function validateBss(section_id, value) {
	if (!value.includes(':'))
		return narrowInterfaceName(value);

	/* macaddr reads the first byte as decimal: "ff" and "1b" pass it as unicast. */
	if ((parseInt(value.substring(0, 2), 16) & 1) || /^00(:00){5}$/.test(value))
		return expecting(_('a unicast BSSID (an even first byte), not a group or all-zero address'));

	return true;
}

/* LuCI's uinteger takes "-0"; the daemon reads decimal digits only. */
function validateDigits(section_id, value) {
	return value.startsWith('-') ? expecting(_('positive integer value')) : true;
}

/* Unbracketed: "[2001:db8::1]" means 2001:db8::1 to the daemon, and LuCI's ipaddr takes no brackets. */
function unbracketedValue(section_id) {
	const v = uci.get('wsflowd', section_id, this.option);
	const inner = (v != null) ? /^\[(.*:.*)\]$/.exec(v) : null;
	return (inner && isIpAddress(inner[1])) ? inner[1] : v;
}

/* ---- The kinds of options, as in the daemon's SCHEMA ---- */

/* An integer from min to max; unset, what is in force (the placeholder), also in a table. */
function integer(option, min, max, placeholder) {
	option.datatype = 'and(uinteger,range(%d,%d))'.format(min, max);
	option.validate = validateDigits;
	option.placeholder = placeholder;
	option.textvalue = function(section_id) {
		const v = this.cfgvalue(section_id);
		return '%h'.format((v != null) ? v : this.placeholder);
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

/* A flag ('1' or '0', the daemon's default when unset); written only when it changes what the file means. */
function flag(option, defaultValue) {
	option.default = defaultValue;
	option.rmempty = false;
	option.cfgvalue = function(section_id) {
		return booleanValue(uci.get('wsflowd', section_id, this.option));
	};
	option.write = function(section_id, value) {
		const stored = uci.get('wsflowd', section_id, this.option);
		if ((stored != null) ? (booleanValue(stored) !== value) : (value !== this.default))
			uci.set('wsflowd', section_id, this.option, value);
	};
	return option;
}

/*
 * One of some words, in any case, or an alias, shown as the word it stands
 * for; unset shows the default, so that saving writes nothing new.
 */
function words(option, choices, defaultWord, aliases) {
	for (const [ value, title ] of choices)
		option.value(value, title);

	option.default = defaultWord;
	option.cfgvalue = function(section_id) {
		const v = uci.get('wsflowd', section_id, this.option);

		if (v == null)
			return this.default;

		const lower = String(v).toLowerCase();
		return (aliases && aliases[lower]) || lower;
	};

	return option;
}

/*
 * Several of some words (a UCI list; items may also hold several words
 * separated by spaces, in any case); unset shows the default, all of the
 * words, and saving writes nothing new. None chosen: the option is
 * removed, which means the default again.
 */
function wordList(option, choices, defaultWords) {
	for (const [ value, title ] of choices)
		option.value(value, title);

	option.default = defaultWords;
	option.cfgvalue = function(section_id) {
		const v = uci.get('wsflowd', section_id, this.option);

		if (v == null)
			return this.default;

		return L.toArray(v).join(' ').toLowerCase().split(/\s+/).filter((w) => w != '');
	};
	option.write = function(section_id, value) {
		const chosen = L.toArray(value);
		const stored = uci.get('wsflowd', section_id, this.option);
		const same = (a, b) => a.length == b.length && a.every((w) => b.includes(w));

		if (stored == null && same(chosen, this.default))
			return;

		uci.set('wsflowd', section_id, this.option, chosen);
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

		/*
		 * The agent section: 'agent' in the package's file, or the one
		 * there is. Without one the daemon's defaults apply, and the
		 * section is added when asked for, not by opening the page.
		 */
		const agent = uci.sections('wsflowd', 'agent')[0];

		s = m.section(form.NamedSection, agent ? agent['.name'] : 'agent', 'agent', _('Agent'));
		s.addremove = !agent;
		s.addbtntitle = _('Add agent settings');
		s.handleAdd = function(ev) {
			this.addremove = false;
			return form.NamedSection.prototype.handleAdd.call(this, ev);
		};
		s.tab('general', _('General Settings'));
		s.tab('advanced', _('Advanced Settings'));

		flag(s.taboption('general', form.Flag, 'enabled', _('Enable'),
			_('When off the agent idles: nothing is sampled, polled or sent.')), '1');

		o = s.taboption('general', widgets.DeviceSelect, 'interface', _('Sampled interfaces'),
			_('Wireless networks and other devices whose packets are sampled and whose counters are polled. Interfaces that do not exist yet are watched for.'));
		o.multiple = true;
		o.noaliases = true;
		o.rmempty = true;
		/* DeviceSelect gives its widget no datatype: the validator checks each name. */
		o.validate = validateInterfaceList;
		/* The widget lists present devices first: the file's order is kept, new names last. */
		o.formvalue = function(section_id) {
			const chosen = form.AbstractValue.prototype.formvalue.call(this, section_id);
			if (chosen == null)
				return null;

			const stored = L.toArray(this.cfgvalue(section_id));
			return stored.filter((name) => chosen.includes(name)).concat(chosen.filter((name) => !stored.includes(name)));
		};

		integer(s.taboption('general', form.Value, 'sampling_rate', _('Sampling rate'),
			_('One packet in N is sampled on every interface that does not set its own rate. Empty: chosen from each link\'s speed (one in N for N Mbit/s, at least 100; 400 on Wi-Fi).')),
		1, 16777215, _('by link speed'));

		integer(s.taboption('general', form.Value, 'polling_interval', _('Polling interval'),
			_('Seconds between two counter samples of each interface; 0 turns counter polling off.')),
		0, 86400, '20');

		o = integer(s.taboption('general', form.Value, 'header_bytes', _('Header bytes'),
			_('How many bytes of each sampled packet are exported (16 to 512).')),
		16, 512, String(DEFAULT_HEADER_BYTES));
		o.onchange = function(ev, section_id) {
			/* The datagram size must leave room for a header of this size. */
			const datagram = this.section.children.find((c) => c.option == 'datagram_bytes');
			if (datagram)
				datagram.triggerValidation(section_id);
		};

		o = integer(s.taboption('general', form.Value, 'datagram_bytes', _('Datagram size'),
			_('Largest UDP payload sent to a collector, in bytes; keep it below the path MTU. It must hold a sampled header and 256 bytes more.')),
		256, 9000, String(DEFAULT_DATAGRAM_BYTES));
		o.validate = function(section_id, value) {
			const digits = validateDigits(section_id, value);
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
		o.datatype = 'or(ipaddr("nomask"),netdevname)';
		o.validate = validateAgentAddress;
		o.cfgvalue = unbracketedValue;
		o.placeholder = _('automatic');

		integer(s.taboption('advanced', form.Value, 'sub_agent_id', _('Sub-agent ID'),
			_('Tells apart several agents that share one address.')),
		0, 4294967295, '0');

		integer(s.taboption('advanced', form.Value, 'ring_kib', _('Receive ring (KiB)'),
			_('Memory shared with the kernel for the sampled packets of each interface; raise it if samples are dropped.')),
		16, 65536, '256');

		words(s.taboption('advanced', form.ListValue, 'sampling_filter', _('Sampling filter'),
			_('eBPF counts every packet exactly and samples both directions; classic BPF samples both directions only on an interface sampled alone, else received packets only, and takes the count from the interface counters.')),
		[ [ 'auto', _('eBPF if the kernel allows it, else classic') ], [ 'ebpf', _('eBPF only') ], [ 'classic', _('Classic BPF') ] ],
		'auto');

		words(s.taboption('advanced', form.ListValue, 'log_level', _('Log level')),
			[ [ 'error', _('Errors') ], [ 'warning', _('Warnings') ], [ 'info', _('Information') ], [ 'debug', _('Debugging') ] ],
			'info', { err: 'error', warn: 'warning', notice: 'info' });

		flag(s.taboption('general', form.Flag, 'dns_sd', _('Collectors from DNS-SD'),
			_('Also send to the collectors published in the DNS, as hsflowd finds them: the SRV records of _sflow._udp.DOMAIN. Its TXT record may set the sampling rate ("sampling=N") and polling interval ("polling=N"), which then replace the two above; an interface\'s own settings stay. Asked again when the records\' TTL ends (between a minute and an hour) and on Save & Apply; if the DNS fails, the last answer stays.')), '0');

		o = s.taboption('general', form.Value, 'dns_sd_domain', _('DNS-SD domain'),
			_('The DOMAIN of _sflow._udp.DOMAIN, e.g. example.net. Empty: the search domains of /etc/resolv.conf (on OpenWrt the local domain, "lan" by default).'));
		o.datatype = 'hostname';
		o.validate = validateDomain;
		o.placeholder = _('search domains');

		wordList(s.taboption('advanced', form.MultiValue, 'station_source', _('Station sources'),
			_('Where the stations and networks of this access point are learnt from: the kernel (nl80211, on every mac80211 driver), hostapd\'s control sockets (any hostapd), hostapd over ubus (OpenWrt\'s). With several, each detail comes from the one that knows it best.')),
		[ [ 'nl80211', _('Kernel (nl80211)') ], [ 'hostapd', _('hostapd control sockets') ], [ 'ubus', _('hostapd over ubus') ] ],
		[ 'nl80211', 'hostapd', 'ubus' ]);

		/* Collectors. */
		s = m.section(form.GridSection, 'collector', _('Collectors'),
			_('Every enabled collector receives every datagram.'));
		s.anonymous = true;
		s.addremove = true;
		s.nodescriptions = true;
		s.addbtntitle = _('Add collector');
		s.modaltitle = _('Collector');

		o = flag(s.option(form.Flag, 'enabled', _('Enable')), '1');
		o.editable = true;

		o = s.option(form.Value, 'address', _('Address'),
			_('IPv4 address, IPv6 address or host name of the collector.'));
		o.rmempty = false;
		o.datatype = 'host';
		o.validate = validateHost;
		o.cfgvalue = unbracketedValue;

		o = integer(s.option(form.Value, 'port', _('Port'), _('UDP port of the collector.')), 1, 65535, '6343');

		/* Monitor interfaces: 'interface' sections of radiotap devices. */
		s = m.section(form.GridSection, 'interface', _('Monitor mode'),
			_('A monitor interface (a Wi-Fi interface in monitor mode, created under Network → Wireless) shows the 802.11 frames on its channel. Turn "Sample" on to sample them: the frames of this access point\'s networks, or of the BSSes listed, are reported with their radio details. Found here: %h.')
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

		o = flag(s.option(form.Flag, 'enabled', _('Sample'),
			_('Monitor-mode sampling of this interface on or off.')), '1');
		o.editable = true;

		o = s.option(form.DynamicList, 'bss', _('BSSes'),
			_('The access point interfaces (e.g. phy0-ap0) or BSSIDs (aa:bb:cc:dd:ee:ff) whose frames are reported. Empty: the access point interfaces on the same radio.'));
		o.datatype = 'or(macaddr,netdevname)';
		o.validate = validateBss;
		o.placeholder = _('AP interfaces on the same radio');

		words(s.option(form.ListValue, 'foreign_bss', _('Other BSSes'),
			_('What to do with the frames of other networks on the channel.')),
		[ [ 'ignore', _('Ignore') ], [ 'discard', _('Report as discarded') ] ],
		'ignore');

		integer(s.option(form.Value, 'sampling_rate', _('Sampling rate')), 1, 16777215, _('agent\'s'));

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

		o = flag(s.option(form.Flag, 'enabled', _('Sample')), '1');
		o.editable = true;

		integer(s.option(form.Value, 'sampling_rate', _('Sampling rate')), 1, 16777215, _('agent\'s'));
		integer(s.option(form.Value, 'polling_interval', _('Polling interval')), 0, 86400, _('agent\'s'));

		o = integer(s.option(form.Value, 'ring_kib', _('Receive ring (KiB)')), 16, 65536, _('agent\'s'));
		o.modalonly = true;

		return m.render();
	}
});
