'use strict';
'require view';
'require rpc';
'require poll';
'require dom';

/*
 * What the sFlow agent is doing: `ubus call wsflowd status`, polled.
 * The figures are shown as the agent reports them (src/agent/status.rs).
 */

const callStatus = rpc.declare({
	object: 'wsflowd',
	method: 'status'
});

/* A value of the agent's, as HTML: a lone string given to E() is markup in LuCI. */
function text(value) {
	return (value == null || value === '') ? '-' : '%h'.format(value);
}

/* A value and, in its tooltip, the source it came from. */
function from(value, source) {
	return E('span', { 'title': source ? _('from %s').format(source) : '' }, text(value));
}

/* A rate in kbit/s, as Mbit/s. */
function rate(kbps) {
	return (kbps != null) ? _('%.1f Mbit/s').format(kbps / 1000) : '-';
}

/* A table with one header row; each row is [ key, [ [ field, content ], ... ] ]. */
function table(id, titles, rows, empty) {
	const head = E('tr', { 'class': 'tr table-titles' },
		titles.map((t) => E('th', { 'class': 'th' }, t)));

	if (!rows.length)
		return E('table', { 'class': 'table', 'id': id }, [
			head,
			E('tr', { 'class': 'tr placeholder' }, E('td', { 'class': 'td', 'colspan': titles.length }, E('em', empty)))
		]);

	return E('table', { 'class': 'table', 'id': id }, [ head ].concat(rows.map(([ key, cells ]) =>
		E('tr', { 'class': 'tr', 'data-key': key }, cells.map(([ field, content ], i) =>
			E('td', { 'class': 'td', 'data-field': field, 'data-title': titles[i] }, content))))));
}

/* Key/value rows, as LuCI's status pages show them. */
function facts(id, rows) {
	return E('table', { 'class': 'table', 'id': id }, rows.map(([ field, title, content ]) =>
		E('tr', { 'class': 'tr' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, title),
			E('td', { 'class': 'td left', 'data-field': field }, content)
		])));
}

return view.extend({
	/* The reply of `status`, or why there is none. */
	fetch() {
		return callStatus().then((reply) => {
			if (L.isObject(reply))
				return { status: reply };

			/* A ubus status code instead of data. */
			return { error: _('ubus status %s').format(reply) };
		}, (err) => ({ error: String(err.message || err).split('\n')[0].trim() }));
	},

	load() {
		return this.fetch();
	},

	renderNotRunning(error) {
		return E('div', { 'class': 'cbi-section', 'id': 'wsflowd-not-running' }, [
			E('div', { 'class': 'alert-message warning' }, [
				E('h4', _('The sFlow agent is not running')),
				E('p', _('wsflowd does not answer on ubus: the service is stopped, or failed to start. It starts once the agent is enabled and an enabled collector (or DNS-SD) is set under Settings; "logread -e wsflowd" tells why it did not.')),
				E('p', [ E('small', [ _('Error:'), ' ', E('code', { 'data-field': 'error' }, '%h'.format(error)) ]) ])
			])
		]);
	},

	renderStatus(st) {
		const config = st.config || {};
		const nodes = [];

		if (config.enabled === false)
			nodes.push(E('div', { 'class': 'alert-message notice', 'id': 'wsflowd-disabled' },
				_('The agent is disabled: it runs, but samples, polls and sends nothing.')));

		if (Array.isArray(st.errors) && st.errors.length)
			nodes.push(E('div', { 'class': 'alert-message warning', 'id': 'wsflowd-errors' }, [
				E('h4', _('The agent cannot do all it is configured to')),
				E('ul', {}, st.errors.map((e) => E('li', { 'data-field': 'error' }, text(e))))
			]));

		nodes.push(E('div', { 'class': 'cbi-section' }, [
			E('h3', _('Agent')),
			facts('wsflowd-agent', [
				[ 'version', _('Version'), text(st.version) ],
				[ 'uptime', _('Uptime'), '%t'.format(st.uptime) ],
				[ 'agent_address', _('Agent address'), text(st.agent_address) ],
				[ 'datagrams', _('Datagrams'), text(st.datagrams) ],
				[ 'sampling_rate', _('Sampling rate'), text(config.sampling_rate) ],
				[ 'polling_interval', _('Polling interval'), text(config.polling_interval) ],
				[ 'ubus', _('hostapd (ubus)'), (st.ubus && st.ubus.connected) ? _('connected') : _('not connected') ],
				[ 'station_sources', _('Station sources'), this.stationSources(st.station_sources) ]
			])
		]));

		nodes.push(E('div', { 'class': 'cbi-section' }, [
			E('h3', _('Collectors')),
			table('wsflowd-collectors',
				[ _('Address'), _('Port'), _('From'), _('Sent to'), _('Datagrams sent'), _('Send errors'), _('Last error') ],
				(st.collectors || []).map((c) => [ '%s:%s'.format(c.address, c.port), [
					[ 'address', text(c.address) ],
					[ 'port', text(c.port) ],
					[ 'source', this.collectorSource(c.source) ],
					[ 'target', text(c.target) ],
					[ 'datagrams_sent', text(c.datagrams_sent) ],
					[ 'send_errors', text(c.send_errors) ],
					[ 'last_error', text(c.last_error) ]
				] ]),
				_('No collector: samples are not sent anywhere.'))
		]));

		if (st.dns_sd)
			nodes.push(E('div', { 'class': 'cbi-section' }, [
				E('h3', _('DNS-SD')),
				this.dnsSd(st.dns_sd)
			]));

		nodes.push(E('div', { 'class': 'cbi-section' }, [
			E('h3', _('Data sources')),
			table('wsflowd-interfaces',
				[ _('Interface'), _('ifIndex'), _('Kind'), _('Sampling'), _('Rate (1 in N)'), _('Samples'), _('Sample pool'), _('Drops'), _('Polling interval') ],
				(st.interfaces || []).map((i) => [ i.device, [
					[ 'device', text(i.device) ],
					[ 'ifindex', text(i.ifindex) ],
					[ 'kind', i.monitor ? _('monitor') : _('interface') ],
					[ 'sampling', i.sampling ? text(i.filter) : _('not sampled') ],
					[ 'sampling_rate', text(i.sampling_rate) ],
					[ 'samples', text(i.samples) ],
					[ 'sample_pool', text(i.sample_pool) ],
					[ 'drops', text(i.drops) ],
					[ 'polling_interval', text(i.polling_interval) ]
				] ]),
				_('No interface is sampled.'))
		]));

		nodes.push(E('div', { 'class': 'cbi-section' }, [
			E('h3', _('Wi-Fi networks')),
			table('wsflowd-bss',
				[ _('Interface'), _('SSID'), _('BSSID'), _('Channel'), _('Stations'), _('Reported by') ],
				(st.bss || []).map((b) => [ b.ifname, [
					[ 'ifname', text(b.ifname) ],
					[ 'ssid', from(b.ssid, b.ssid_from) ],
					[ 'bssid', from(b.bssid, b.bssid_from) ],
					[ 'channel', from(b.freq ? _('%d (%d MHz)').format(b.channel, b.freq) : b.channel, b.channel_from) ],
					[ 'stations', text(b.stations) ],
					[ 'sources', text((b.sources || []).join(', ')) ]
				] ]),
				_('No access point network found (by the kernel, hostapd\'s control sockets or ubus).'))
		]));

		const stations = [];
		for (const b of (st.bss || []))
			for (const s of (b.station_list || []))
				stations.push([ '%s %s'.format(b.ifname, s.mac), [
					[ 'mac', text(s.mac) ],
					[ 'ifname', text(b.ifname) ],
					[ 'associated', s.associated ? _('yes') : _('no') ],
					[ 'signal', (s.signal != null) ? _('%d dBm').format(s.signal) : '-' ],
					[ 'rx_rate', rate(s.rx_rate) ],
					[ 'tx_rate', rate(s.tx_rate) ],
					[ 'sources', text((s.sources || []).join(', ')) ]
				] ]);

		nodes.push(E('div', { 'class': 'cbi-section' }, [
			E('h3', _('Stations')),
			table('wsflowd-stations',
				[ _('Station'), _('Interface'), _('Associated'), _('Signal'), _('Rate from it'), _('Rate to it'), _('Reported by') ],
				stations, _('No station.'))
		]));

		return E('div', { 'id': 'wsflowd-status' }, nodes);
	},

	/* Where a collector comes from: a collector section of the settings, or DNS-SD. */
	collectorSource(source) {
		switch (source) {
		case 'uci':
			return _('settings');
		case 'dns-sd':
			return _('DNS-SD');
		default:
			return text(source);
		}
	},

	/* DNS-SD: the names asked, what the last answer gave, when it is asked again, what went wrong. */
	dnsSd(d) {
		if (!d.enabled)
			return facts('wsflowd-dns-sd', [
				[ 'state', _('Collectors from DNS-SD'), _('off') ]
			]);

		const a = d.answer;
		const rows = [
			[ 'state', _('Collectors from DNS-SD'), d.querying ? _('on, asking now') : _('on') ],
			[ 'names', _('Records asked for'), text((d.names || []).map((n) => n + ' SRV, TXT').join('; ')) ],
			[ 'answer', _('Last answer'), a ? text(_('%t ago, from %s').format(a.age, a.server)) : _('none yet') ]
		];

		if (a) {
			const found = (a.collectors || []).map((c) => '%s:%d'.format(c.address, c.port));
			const settings = [];

			if (a.sampling_rate != null)
				settings.push(_('sampling rate 1 in %d').format(a.sampling_rate));

			if (a.polling_interval != null)
				settings.push(_('polling interval %d s').format(a.polling_interval));

			rows.push(
				[ 'ttl', _('TTL'), (typeof a.ttl == 'number') ? _('%d s').format(a.ttl) : _('none given') ],
				[ 'collectors', _('Collectors found'), found.length ? text(found.join(', ')) : _('none') ],
				[ 'settings', _('Settings found'), settings.length ? text(settings.join(', ')) : _('none') ]
			);

			if (Array.isArray(a.notes) && a.notes.length)
				rows.push([ 'notes', _('Left out'), E('ul', {}, a.notes.map((n) => E('li', {}, text(n)))) ]);
		}

		rows.push([ 'next_query', _('Next query'), (d.next_query != null) ? _('in %t').format(d.next_query) : '-' ]);

		if (d.error)
			rows.push([ 'error', _('Error'), text(_('%s (failed lookups in a row: %d, the last %t ago; the last answer stays in force)').format(d.error, d.failures, d.error_age)) ]);

		return facts('wsflowd-dns-sd', rows);
	},

	/* Which station sources are configured, and how each is doing. */
	stationSources(ss) {
		if (!ss || !Array.isArray(ss.configured))
			return '-';

		return text(ss.configured.map((name) => {
			switch (name) {
			case 'nl80211':
				return !ss.nl80211 || !ss.nl80211.available ? _('kernel (not available)')
					: ss.nl80211.notifications ? _('kernel') : _('kernel (listings only)');
			case 'ubus':
				return (ss.ubus && ss.ubus.connected) ? _('ubus (%d networks)').format(ss.ubus.bss || 0) : _('ubus (not connected)');
			case 'hostapd':
				return ss.hostapd ? _('hostapd control (%d networks)').format(ss.hostapd.bss || 0) : _('hostapd control');
			default:
				return name;
			}
		}).join(', '));
	},

	renderContent(result) {
		return result.status ? this.renderStatus(result.status) : this.renderNotRunning(result.error);
	},

	render(result) {
		const container = E('div', { 'id': 'wsflowd-status-container' }, this.renderContent(result));

		poll.add(() => this.fetch().then((next) => dom.content(container, this.renderContent(next))), 5);

		return E('div', {}, [
			E('h2', _('sFlow Status')),
			E('div', { 'class': 'cbi-map-descr' }, _('What the sFlow agent is doing, refreshed every 5 seconds.')),
			container
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
