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

/* How long the graphs look back, in milliseconds of the agent's uptime. */
const HISTORY_MS = 10 * 60 * 1000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const COLORS = [ '#2b7bba', '#e2731e', '#3fa34d', '#c23b3b', '#8e5cb8', '#7f7f7f' ];

/* An SVG element with attributes. */
function svg(tag, attrs, children) {
	const node = document.createElementNS(SVG_NS, tag);
	for (const k in attrs)
		node.setAttribute(k, attrs[k]);
	for (const c of (children || []))
		node.appendChild(c);
	return node;
}

/* A bit rate, for an axis or a legend. */
function bits(perSecond) {
	return '%1024.2mbit/s'.format(perSecond);
}

/*
 * A line chart of series [ { name, points: [ [ t_ms, value ], ... ] } ] over
 * the last HISTORY_MS, drawn as LuCI's realtime graphs are: plain SVG, no
 * library. `label` formats a value.
 */
function chart(id, series, label, max) {
	const W = 600, H = 160, L = 70, B = 20, T = 10;
	const now = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[0])));
	const top = max != null ? max : Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1;
	const x = (t) => L + (W - L) * (1 - (now - t) / HISTORY_MS);
	const y = (v) => T + (H - B - T) * (1 - v / top);
	const grid = [ 0, 0.5, 1 ].map((f) => [
		svg('line', { x1: L, x2: W, y1: y(top * f), y2: y(top * f), stroke: '#ddd' }),
		svg('text', { x: L - 4, y: y(top * f) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#666' },
			[ document.createTextNode(label(top * f)) ])
	]).flat();
	const lines = series.map((s, i) => svg('g', { 'data-series': s.name }, [
		svg('polyline', {
			points: s.points.map((p) => '%.1f,%.1f'.format(x(p[0]), y(p[1]))).join(' '),
			fill: 'none',
			stroke: COLORS[i % COLORS.length],
			'stroke-width': 2
		})
	].concat(s.points.map((p) => svg('circle', {
		cx: '%.1f'.format(x(p[0])), cy: '%.1f'.format(y(p[1])), r: 2.5, fill: COLORS[i % COLORS.length]
	})))));
	const axis = svg('text', { x: W, y: H - 4, 'text-anchor': 'end', 'font-size': 10, fill: '#666' },
		[ document.createTextNode(_('last %d minutes').format(HISTORY_MS / 60000)) ]);

	return E('div', { 'class': 'wsflowd-chart', 'id': id }, [
		svg('svg', { viewBox: '0 0 %d %d'.format(W, H), width: '100%', height: H, role: 'img' }, grid.concat(lines, [ axis ])),
		E('div', { 'class': 'wsflowd-legend' }, series.map((s, i) =>
			E('span', { 'style': 'margin-right:1em' }, [
				E('span', { 'style': 'display:inline-block;width:1em;height:0.6em;background:%s'.format(COLORS[i % COLORS.length]) }),
				/* A text node: the name is shown as it is, never as markup. */
				' ', s.name
			])))
	]);
}

/*
 * Rates between successive counter readings of a history of
 * [ t_ms, counter... ]: [ t_ms, (Δcounter[k] / Δt) ... ].
 */
function rates(points) {
	const out = [];
	for (let i = 1; i < points.length; i++) {
		const dt = (points[i][0] - points[i - 1][0]) / 1000;
		if (dt <= 0)
			continue;
		out.push([ points[i][0] ].concat(points[i].slice(1).map((v, k) => Math.max(0, v - points[i - 1][k + 1]) / dt)));
	}
	return out;
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

		nodes.push(this.renderGraphs(st));

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
					[ 'traffic', (s.rx_bytes != null || s.tx_bytes != null)
						? _('%1024.2mB from, %1024.2mB to').format(s.rx_bytes || 0, s.tx_bytes || 0) : '-' ],
					[ 'sources', text((s.sources || []).join(', ')) ]
				] ]);

		nodes.push(E('div', { 'class': 'cbi-section' }, [
			E('h3', _('Stations')),
			table('wsflowd-stations',
				[ _('Station'), _('Interface'), _('Associated'), _('Signal'), _('Rate from it'), _('Rate to it'), _('Traffic'), _('Reported by') ],
				stations, _('No station.'))
		]));

		return E('div', { 'id': 'wsflowd-status' }, nodes);
	},

	/*
	 * Adds what this status says to the history the graphs draw: each
	 * interface's counters and each radio's channel times, as the agent
	 * read them at its last counter sample.
	 */
	remember(st) {
		const h = this.history || (this.history = { traffic: {}, radios: {} });
		const add = (map, key, point) => {
			const list = map[key] || (map[key] = []);
			if (list.length && list[list.length - 1][0] >= point[0])
				return;
			list.push(point);
			while (list.length && point[0] - list[0][0] > HISTORY_MS)
				list.shift();
		};

		for (const i of (st.interfaces || [])) {
			if (i.traffic)
				add(h.traffic, i.device, [ i.traffic.at_ms, i.traffic.rx_bytes * 8, i.traffic.tx_bytes * 8 ]);
			if (i.radio && i.traffic) {
				const bss = (st.bss || []).find((b) => b.ifname == i.device);
				add(h.radios, (bss && bss.radio) || i.device, [ i.traffic.at_ms, i.radio.on_channel_ms, i.radio.busy_ms ]);
			}
		}
	},

	/* Traffic per SSID (or interface) and channel busy time per radio. */
	renderGraphs(st) {
		this.remember(st);
		const h = this.history;
		const ssidOf = {};
		for (const b of (st.bss || []))
			if (b.ssid)
				ssidOf[b.ifname] = b.ssid;

		/* Rates per interface, summed per SSID at each reading. */
		const groups = {};
		for (const dev in h.traffic) {
			const name = ssidOf[dev] || dev;
			for (const [ t, rx, tx ] of rates(h.traffic[dev])) {
				const g = groups[name] || (groups[name] = {});
				const at = g[t] || (g[t] = [ 0, 0 ]);
				at[0] += rx;
				at[1] += tx;
			}
		}
		const traffic = [];
		for (const name of Object.keys(groups).sort()) {
			const times = Object.keys(groups[name]).map(Number).sort((a, b) => a - b);
			traffic.push({ name: _('%s in').format(name), points: times.map((t) => [ t, groups[name][t][0] ]) });
			traffic.push({ name: _('%s out').format(name), points: times.map((t) => [ t, groups[name][t][1] ]) });
		}

		const busy = Object.keys(h.radios).sort().map((radio) => ({
			name: radio,
			points: rates(h.radios[radio]).filter((p) => p[1] > 0).map((p) => [ p[0], 100 * p[2] / p[1] ])
		}));

		return E('div', { 'class': 'cbi-section', 'id': 'wsflowd-graphs' }, [
			E('h3', _('Traffic')),
			E('p', { 'class': 'cbi-section-descr' }, _('Per network (SSID) or interface, from the interface counters the agent reads at each polling interval.')),
			traffic.length ? chart('wsflowd-traffic-chart', traffic, bits) : E('em', _('Two counter samples are needed; they come every polling interval.')),
			E('h3', _('Channel busy time')),
			E('p', { 'class': 'cbi-section-descr' }, _('Per radio: the share of the time on channel that the channel was busy.')),
			busy.some((b) => b.points.length) ? chart('wsflowd-busy-chart', busy, (v) => '%d %%'.format(v), 100)
				: E('em', _('No channel utilization from this radio yet (the driver reports no channel survey and hostapd no air time), or fewer than two readings.'))
		]);
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
