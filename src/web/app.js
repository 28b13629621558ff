// Forewarn web page: the account list and one account's health, signals, advisories and tickets.
// Plain browser JavaScript, no build step and no dependencies. Everything comes from /api with the
// token the user typed (kept in sessionStorage); every text is set with textContent, never as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'forewarn.token';
  const CHART_DAYS = 7;
  const MAX_CHARTS = 8;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const view = {
    accounts: /** @type {any[]} */ ([]),
    selected: /** @type {string | null} */ (null),
    /** bumps on every detail load so a slow, older answer never overwrites a newer one */
    detailLoad: 0,
  };

  // ---------------------------------------------------------------- small helpers

  /** @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

  /**
   * Builds an element; strings and numbers become text nodes (never parsed as HTML).
   * @param {string} tag @param {Record<string, any> | null} [attrs] @param {...any} children
   */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, children);
    return el;
  }
  /** @param {Node} el @param {any[]} children */
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  /**
   * A table of one row per item that scrolls sideways inside its card instead of overflowing it;
   * `empty` in its place when there are no items.
   * @param {unknown} list @param {string} empty @param {string[]} headers @param {(item: any) => HTMLElement} row
   */
  function table(list, empty, headers, row) {
    if (!Array.isArray(list) || list.length === 0) return h('p', { class: 'muted' }, empty);
    const head = h(
      'thead',
      null,
      h(
        'tr',
        null,
        headers.map((t) => h('th', null, t)),
      ),
    );
    const body = h(
      'tbody',
      null,
      list.map((item) => row(item)),
    );
    return h('div', { class: 'table-scroll' }, h('table', { class: 'table' }, head, body));
  }
  /** A definition list, each term and its value in a div. @param {string} cls @param {Array<[string, any]>} pairs */
  function defs(cls, pairs) {
    return h(
      'dl',
      { class: cls },
      pairs.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
    );
  }
  /** @param {string} tag @param {Record<string, string | number>} attrs @param {string} [text] */
  function svg(tag, attrs = {}, text) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

  /** A time in the browser's local time, the UTC ISO string in its title. @param {string | undefined} iso */
  function time(iso) {
    if (!iso) return h('span', { class: 'muted' }, '—');
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return h('span', null, iso);
    return h('time', { datetime: iso, title: iso }, dateTime.format(d));
  }

  /** A server sentence with UTC instants in it ("... since 2026-11-25T08:35Z"), the instants shown in local time. @param {string} text */
  function localizeText(text) {
    const parts = String(text).split(/(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z)/);
    return parts.map((p, i) => (i % 2 === 1 ? time(new Date(p).toISOString()) : p));
  }

  /** @param {number} x */
  function num(x) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return '—';
    if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString();
    if (Math.abs(x) >= 100) return String(Math.round(x));
    return String(Number(x.toPrecision(3)));
  }

  /** @param {number} score */
  function healthClass(score) {
    if (score >= 80) return 'good';
    if (score >= 50) return 'warn';
    return 'bad';
  }
  /** @param {number} score */
  function healthBadge(score, big) {
    const s = Math.round(score);
    return h(
      'span',
      { class: `health health-${healthClass(score)}${big ? ' health-big' : ''}`, title: `health ${s} of 100`, 'data-health': s },
      String(s),
    );
  }
  /** @param {string} severity */
  const sevBadge = (severity) => h('span', { class: `badge sev-${severity}` }, severity);
  /** @param {string} tier */
  const tierBadge = (tier) => h('span', { class: 'badge tier' }, tier);
  /** @param {{unclassified?: boolean}} a */
  const unclassifiedBadge = (a) => (a.unclassified ? h('span', { class: 'badge unclassified' }, 'unclassified') : null);

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    /** @param {number} status @param {string} error @param {unknown} detail */
    constructor(status, error, detail) {
      super(error);
      this.status = status;
      this.detail = detail;
    }
  }

  /** @param {string} path @param {RequestInit} [init] */
  async function api(path, init = {}) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    let res;
    try {
      res = await fetch(path, { ...init, headers, cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, 'cannot reach the Forewarn server', String(err));
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      const error = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status} ${res.statusText}`;
      throw new ApiError(res.status, error, body ? body.detail : text.slice(0, 300));
    }
    return body;
  }

  /** "unknown token (HTTP 401)" plus the detail, compactly. @param {unknown} err */
  function describe(err) {
    if (!(err instanceof ApiError)) return String(err instanceof Error ? err.message : err);
    let text = err.message;
    const d = err.detail;
    if (d !== null && d !== undefined && d !== '') {
      if (typeof d === 'object' && !Array.isArray(d) && Object.values(d).every((v) => v === null || typeof v !== 'object')) {
        text += ` (${Object.entries(d)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`;
      } else {
        const s = typeof d === 'string' ? d : JSON.stringify(d);
        text += ` (${s.length > 300 ? `${s.slice(0, 300)}…` : s})`;
      }
    }
    return err.status ? `${text} [HTTP ${err.status}]` : text;
  }

  // ---------------------------------------------------------------- banner and sign-in

  let bannerTimer = 0;
  /** @param {string} text @param {'error' | 'ok'} kind */
  function banner(text, kind = 'error') {
    const el = $('banner');
    el.className = `banner banner-${kind}`;
    el.replaceChildren(
      h('span', null, text),
      h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss', onclick: () => (el.hidden = true) }, '×'),
    );
    el.hidden = false;
    clearTimeout(bannerTimer);
    if (kind === 'ok') bannerTimer = window.setTimeout(() => (el.hidden = true), 4000);
  }

  /** Shows the token form; `message` says why (wrong token, role too weak). @param {string} [message] */
  function showLogin(message) {
    $('main').hidden = true;
    $('refresh').hidden = true;
    $('signout').hidden = true;
    $('banner').hidden = true;
    $('login').hidden = false;
    const err = $('login-error');
    err.textContent = message ?? '';
    err.hidden = !message;
    const input = /** @type {HTMLInputElement} */ ($('token'));
    input.value = '';
    input.focus();
  }

  /** Handles an auth failure of a read; returns true when it was one. @param {unknown} err */
  function authFailed(err) {
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) return false;
    const had = sessionStorage.getItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    if (err.status === 401) showLogin(had ? `The server did not accept this token: ${describe(err)}` : undefined);
    else showLogin(`This token may not read accounts: ${describe(err)}. Use a read or admin token.`);
    return true;
  }

  // ---------------------------------------------------------------- the account list

  async function loadAccounts() {
    let list;
    try {
      list = await api('/api/accounts');
    } catch (err) {
      if (authFailed(err)) return false;
      $('login').hidden = true;
      $('main').hidden = false;
      banner(`Could not load the accounts: ${describe(err)}`);
      return false;
    }
    view.accounts = Array.isArray(list) ? list : [];
    $('login').hidden = true;
    $('main').hidden = false;
    $('refresh').hidden = false;
    $('signout').hidden = !sessionStorage.getItem(TOKEN_KEY);
    $('updated').replaceChildren('Updated ', time(new Date().toISOString()));
    fillTierFilter();
    renderList();
    return true;
  }

  function fillTierFilter() {
    const select = /** @type {HTMLSelectElement} */ ($('tier-filter'));
    const current = select.value;
    // tiers are listed highest-value first, as in tiers.yaml: by the largest contract they hold
    const top = new Map();
    for (const a of view.accounts) {
      const v = a.attributes?.contractValueUsd ?? 0;
      top.set(a.tier, Math.max(top.get(a.tier) ?? -1, v));
    }
    const tiers = [...top.keys()].sort((x, y) => top.get(y) - top.get(x) || String(x).localeCompare(String(y)));
    select.replaceChildren(h('option', { value: '' }, 'All tiers'), ...tiers.map((t) => h('option', { value: t }, t)));
    select.value = tiers.includes(current) ? current : '';
  }

  function renderList() {
    const q = /** @type {HTMLInputElement} */ ($('search')).value.trim().toLowerCase();
    const tier = /** @type {HTMLSelectElement} */ ($('tier-filter')).value;
    const shown = view.accounts
      .filter((a) => !tier || a.tier === tier)
      .filter(
        (a) => !q || [a.id, a.name, a.csm?.name, a.csm?.email, a.region].some((s) => typeof s === 'string' && s.toLowerCase().includes(q)),
      )
      // the accounts that need attention first
      .sort((a, b) => (a.health?.score ?? 100) - (b.health?.score ?? 100) || String(a.name).localeCompare(String(b.name)));
    const body = /** @type {HTMLTableSectionElement} */ ($('accounts').querySelector('tbody'));
    body.replaceChildren(
      ...shown.map((a) => {
        const open = Array.isArray(a.openSignals) ? a.openSignals : [];
        const row = h(
          'tr',
          { 'data-account': a.id, class: a.id === view.selected ? 'selected' : undefined, tabindex: 0 },
          h(
            'td',
            null,
            h('a', { href: `/accounts/${encodeURIComponent(a.id)}`, class: 'account-name' }, a.name),
            h('div', { class: 'muted small' }, a.id, unclassifiedBadge(a)),
          ),
          h('td', null, tierBadge(a.tier)),
          h('td', { class: 'num' }, healthBadge(a.health?.score ?? 100)),
          h(
            'td',
            { class: 'signals-cell' },
            open.length === 0
              ? h('span', { class: 'muted' }, 'none')
              : open.slice(0, 3).map((s) => h('span', { class: 'signal-chip', title: s.summary }, sevBadge(s.severity), ' ', s.rule)),
            open.length > 3 ? h('span', { class: 'muted small' }, ` +${open.length - 3} more`) : null,
          ),
        );
        row.addEventListener('click', (e) => {
          e.preventDefault();
          select(a.id, true);
        });
        row.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') select(a.id, true);
        });
        return row;
      }),
    );
    $('count').textContent = shown.length === view.accounts.length ? `(${shown.length})` : `(${shown.length} of ${view.accounts.length})`;
    $('empty').hidden = shown.length > 0;
  }

  // ---------------------------------------------------------------- one account

  /** @param {string} id @param {boolean} push */
  function select(id, push) {
    view.selected = id;
    if (push) history.pushState(null, '', `/accounts/${encodeURIComponent(id)}`);
    for (const tr of $('accounts').querySelectorAll('tbody tr')) tr.classList.toggle('selected', tr.getAttribute('data-account') === id);
    void loadDetail(id);
  }

  /** Runs one request of the detail view; a failure becomes a visible message in its section. */
  async function part(path) {
    try {
      return { ok: true, value: await api(path) };
    } catch (err) {
      return { ok: false, err };
    }
  }

  /** @param {{ok: boolean, err?: unknown}} r @param {string} what */
  function partError(r, what) {
    return h('p', { class: 'error-text', role: 'alert' }, `Could not load ${what}: ${describe(r.err)}`);
  }

  /**
   * One card of the detail view: its heading, then what `render` makes of the answer, or why the request failed.
   * @param {string} id @param {string} title @param {{ok: boolean, value?: any, err?: unknown}} r @param {string} what
   * @param {(value: any) => HTMLElement} render
   */
  function section(id, title, r, what, render) {
    return h('div', { class: 'card', id }, h('h3', null, title), r.ok ? render(r.value) : partError(r, what));
  }

  /** @param {string} id */
  async function loadDetail(id) {
    const load = ++view.detailLoad;
    const detail = $('detail');
    detail.setAttribute('aria-busy', 'true');
    const enc = encodeURIComponent(id);
    const [account, health, signals, advisories, tickets, series] = await Promise.all([
      part(`/api/accounts/${enc}`),
      part(`/api/accounts/${enc}/health`),
      part(`/api/signals?account=${enc}&limit=50`),
      part(`/api/advisories?account=${enc}&limit=50`),
      part(`/api/tickets?account=${enc}&limit=50`),
      part(`/api/accounts/${enc}/series`),
    ]);
    if (load !== view.detailLoad) return;
    for (const r of [account, health, signals, advisories, tickets, series]) if (!r.ok && authFailed(r.err)) return;
    detail.removeAttribute('aria-busy');
    if (!account.ok) {
      detail.replaceChildren(h('div', { class: 'card' }, partError(account, `account "${id}"`)));
      return;
    }
    const a = account.value;
    const sigs = signals.ok ? signals.value : [];
    detail.replaceChildren(
      headerCard(a, health),
      section('signals', 'Signals', signals, 'signals', signalsTable),
      section('tickets', 'Tickets', tickets, 'tickets', ticketsTable),
      section('advisories', 'Advisories sent', advisories, 'advisories', advisoriesTable),
      section('charts', `Last ${CHART_DAYS} days`, series, 'the series', (list) => chartsFor(a.id, list, sigs)),
    );
  }

  function headerCard(a, health) {
    const facts = [
      ['Tier', tierBadge(a.tier)],
      ['CSM', a.csm ? h('a', { href: `mailto:${a.csm.email}` }, a.csm.name) : h('span', { class: 'muted' }, 'none')],
      ['Contract', a.attributes ? `$${num(a.attributes.contractValueUsd)}` : '—'],
      ['Criticality', a.attributes?.criticality?.replace('_', ' ') ?? '—'],
      ['Region', a.region ?? '—'],
      ['Time zone', a.timezone ?? 'UTC'],
    ];
    const score = health.ok ? health.value.score : a.health?.score;
    const contributors = health.ok ? health.value.contributors : [];
    return h(
      'div',
      { class: 'card account-head', id: 'account' },
      h(
        'div',
        { class: 'account-title' },
        h('div', null, h('h2', null, a.name), h('div', { class: 'muted' }, a.id, unclassifiedBadge(a))),
        typeof score === 'number'
          ? h('div', { class: 'health-block' }, healthBadge(score, true), h('div', { class: 'muted small' }, 'health'))
          : null,
      ),
      defs('facts', facts),
      h('h3', null, 'What lowers the health'),
      !health.ok
        ? partError(health, 'the health')
        : contributors.length === 0
          ? h('p', { class: 'muted' }, 'Nothing: every watched series is within its baseline.')
          : h(
              'ul',
              { class: 'contributors', id: 'contributors' },
              contributors.map((c) => {
                const bar = h('span', { class: `bar-fill ${healthClass(100 * (1 - c.score))}` });
                bar.style.width = `${Math.round(c.score * 100)}%`;
                return h(
                  'li',
                  null,
                  h('span', { class: 'contrib-text' }, localizeText(c.text)),
                  h('span', { class: 'bar', title: `anomaly score ${c.score.toFixed(2)}` }, bar),
                );
              }),
            ),
    );
  }

  function signalsTable(list) {
    // open signals first, each group newest first
    const sorted = Array.isArray(list)
      ? [...list].sort((x, y) => (x.state === y.state ? String(y.openedAt).localeCompare(String(x.openedAt)) : x.state === 'open' ? -1 : 1))
      : [];
    return table(sorted, 'No signals.', ['State', 'Severity', 'Rule', 'Series', 'Onset', 'Resolved', 'Peak'], (s) =>
      h(
        'tr',
        { 'data-signal': s.id, class: s.state === 'open' ? 'row-open' : undefined },
        h('td', null, h('span', { class: `badge state-${s.state}` }, s.state)),
        h('td', null, sevBadge(s.severity)),
        h(
          'td',
          null,
          h('div', null, s.rule, ' ', h('span', { class: 'muted small' }, s.domain)),
          s.summary ? h('div', { class: 'muted small summary' }, s.summary) : null,
        ),
        h('td', null, h('code', null, s.metric)),
        h('td', null, time(s.onset ?? s.openedAt)),
        h('td', null, s.state === 'resolved' ? time(s.resolvedAt) : h('span', { class: 'muted' }, 'open')),
        h('td', { class: 'num' }, typeof s.peakScore === 'number' ? s.peakScore.toFixed(2) : '—'),
      ),
    );
  }

  /** "overdue" when a due time passed and the clock it belongs to is still running */
  function due(iso, stopped) {
    const el = time(iso);
    if (!stopped && iso && Date.parse(iso) < Date.now()) {
      return h('span', { class: 'overdue' }, el, ' ', h('span', { class: 'badge sev-critical' }, 'overdue'));
    }
    return el;
  }

  function ticketsTable(list) {
    return table(list, 'No tickets.', ['Priority', 'Ticket', 'Queue', 'State', 'SLO due', ''], (t) =>
      h(
        'tr',
        { 'data-ticket': t.id },
        h('td', null, h('span', { class: `badge prio prio-${t.priority}` }, t.priority)),
        h('td', null, h('div', null, t.title), h('div', { class: 'muted small' }, t.id, ' · created ', time(t.createdAtWall))),
        h('td', null, t.queue),
        h('td', null, h('span', { class: `badge state-${t.state}`, 'data-state': t.state }, t.state)),
        h(
          'td',
          null,
          defs('dues', [
            ['Ack', due(t.ackDueWall, t.state !== 'open')],
            ['First response', due(t.firstResponseDueWall, t.state === 'resolved')],
            ['Resolve', due(t.resolveDueWall, t.state === 'resolved')],
          ]),
        ),
        h(
          'td',
          { class: 'actions' },
          t.state === 'open'
            ? h(
                'button',
                { type: 'button', class: 'btn btn-small', onclick: (e) => ticketAction(t.id, 'ack', e.currentTarget) },
                'Acknowledge',
              )
            : null,
          t.state !== 'resolved'
            ? h(
                'button',
                { type: 'button', class: 'btn btn-small btn-primary', onclick: (e) => ticketAction(t.id, 'resolve', e.currentTarget) },
                'Resolve',
              )
            : null,
        ),
      ),
    );
  }

  /** @param {string} id @param {'ack' | 'resolve'} action @param {HTMLButtonElement} button */
  async function ticketAction(id, action, button) {
    const row = button.closest('tr');
    for (const b of row ? row.querySelectorAll('button') : []) b.disabled = true;
    try {
      const t = await api(`/api/tickets/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
      banner(`Ticket ${t.id} is now ${t.state}.`, 'ok');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        authFailed(err);
        return;
      }
      banner(`Could not ${action === 'ack' ? 'acknowledge' : 'resolve'} ticket ${id}: ${describe(err)}`);
    }
    if (view.selected) await loadDetail(view.selected);
  }

  function advisoriesTable(list) {
    return table(list, 'No advisories.', ['Kind', 'Subject', 'To', 'Status', 'Decided', 'Sent'], (a) =>
      h(
        'tr',
        { 'data-advisory': a.id },
        h('td', null, h('span', { class: 'badge kind' }, String(a.kind).replaceAll('_', ' '))),
        h('td', null, a.subject, a.lastError ? h('div', { class: 'error-text small' }, a.lastError) : null),
        h('td', { class: 'small' }, (a.to ?? []).join(', ')),
        h('td', null, h('span', { class: `badge status-${a.status}`, title: `${a.attempts} attempt(s)` }, a.status)),
        h('td', null, time(a.decidedAtWall)),
        h('td', null, time(a.sentAtWall)),
      ),
    );
  }

  // ---------------------------------------------------------------- charts

  function chartsFor(account, seriesList, signals) {
    if (!Array.isArray(seriesList) || seriesList.length === 0) return h('p', { class: 'muted' }, 'No telemetry yet.');
    // a signal's metric names one series, or several joined by '/'
    const seriesOf = (g) => String(g.metric).split('/');
    // series with an open signal first, then by name
    const hot = new Set(signals.filter((g) => g.state === 'open').flatMap(seriesOf));
    const ordered = [...seriesList].sort(
      (x, y) => Number(hot.has(y.metric)) - Number(hot.has(x.metric)) || x.metric.localeCompare(y.metric),
    );
    const wrap = h('div', { class: 'charts' });
    for (const s of ordered.slice(0, MAX_CHARTS)) {
      const slot = h(
        'figure',
        { class: 'chart', 'data-metric': s.metric },
        h('figcaption', null, h('code', null, s.metric)),
        h('div', { class: 'muted small' }, 'loading…'),
      );
      wrap.appendChild(slot);
      const to = Date.parse(s.last);
      const from = to - CHART_DAYS * 86_400_000;
      const q = `metric=${encodeURIComponent(s.metric)}&from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to + 1).toISOString())}`;
      api(`/api/accounts/${encodeURIComponent(account)}/series?${q}`).then(
        (r) =>
          slot.replaceChild(
            drawChart(
              r.points ?? [],
              from,
              to,
              signals.filter((g) => seriesOf(g).includes(s.metric)),
            ),
            slot.lastChild,
          ),
        (err) => slot.replaceChild(h('p', { class: 'error-text small' }, `Could not load ${s.metric}: ${describe(err)}`), slot.lastChild),
      );
    }
    if (ordered.length > MAX_CHARTS)
      wrap.appendChild(h('p', { class: 'muted small' }, `${ordered.length - MAX_CHARTS} more series not shown.`));
    return wrap;
  }

  /** An SVG line of the points (min and max per pixel column), signal episodes shaded. */
  function drawChart(points, fromMs, toMs, signals) {
    const W = 360;
    const H = 130;
    const pad = { l: 38, r: 6, t: 8, b: 18 };
    const pts = points.map(([t, v]) => [Date.parse(t), v]).filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart-svg' });
    if (pts.length === 0) {
      root.appendChild(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis' }, 'no points in this window'));
      return root;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const [, v] of pts) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    // counts, latencies and ratios are read against zero: a flat series must look flat
    if (lo > 0) lo = 0;
    if (hi === lo) hi = lo + (Math.abs(lo) || 1);
    const x = (t) => pad.l + ((t - fromMs) / Math.max(1, toMs - fromMs)) * (W - pad.l - pad.r);
    const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);

    // episodes of signals on this series, shaded behind the line
    for (const s of signals) {
      const a = Math.max(fromMs, Date.parse(s.onset ?? s.openedAt));
      const b = s.resolvedAt ? Math.min(toMs, Date.parse(s.resolvedAt)) : toMs;
      if (!(b > a)) continue;
      const r = svg('rect', {
        x: x(a),
        y: pad.t,
        width: Math.max(2, x(b) - x(a)),
        height: H - pad.t - pad.b,
        class: `episode sev-${s.severity}`,
      });
      r.appendChild(svg('title', {}, `${s.rule} (${s.severity}, ${s.state})`));
      root.appendChild(r);
    }
    // grid and labels
    for (const v of [lo, (lo + hi) / 2, hi]) {
      root.appendChild(svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }));
      root.appendChild(svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, num(v)));
    }
    for (let d = 0; d < CHART_DAYS; d += 2) {
      const t = fromMs + d * 86_400_000;
      root.appendChild(
        svg('text', { x: x(t), y: H - 4, 'text-anchor': d === 0 ? 'start' : 'middle', class: 'axis' }, shortDate.format(new Date(t))),
      );
    }
    // one min and one max per pixel column keeps spikes visible with thousands of points
    const cols = new Map();
    for (const [t, v] of pts) {
      const c = Math.round(x(t));
      const e = cols.get(c);
      if (!e) cols.set(c, { min: v, max: v, minT: t, maxT: t });
      else {
        if (v < e.min) Object.assign(e, { min: v, minT: t });
        if (v > e.max) Object.assign(e, { max: v, maxT: t });
      }
    }
    const coords = [];
    for (const [c, e] of [...cols.entries()].sort((p, q) => p[0] - q[0])) {
      const pair = e.minT <= e.maxT ? [e.min, e.max] : [e.max, e.min];
      for (const v of e.min === e.max ? [e.min] : pair) coords.push(`${c},${y(v).toFixed(1)}`);
    }
    root.appendChild(svg('polyline', { points: coords.join(' '), class: 'line' }));
    const last = pts[pts.length - 1];
    root.appendChild(svg('title', {}, `${pts.length} points, last ${num(last[1])} at ${new Date(last[0]).toISOString()}`));
    return root;
  }

  // ---------------------------------------------------------------- start

  function selectedFromPath() {
    const m = /^\/accounts\/([^/]+)\/?$/.exec(location.pathname);
    if (!m) return null;
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return null;
    }
  }

  async function start() {
    const ok = await loadAccounts();
    const id = selectedFromPath();
    if (ok && id) select(id, false);
  }

  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = /** @type {HTMLInputElement} */ ($('token')).value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    void start();
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  });
  $('refresh').addEventListener('click', async () => {
    if ((await loadAccounts()) && view.selected) await loadDetail(view.selected);
  });
  $('search').addEventListener('input', renderList);
  $('tier-filter').addEventListener('change', renderList);
  window.addEventListener('popstate', () => {
    const id = selectedFromPath();
    if (id) select(id, false);
    else {
      view.selected = null;
      renderList();
      $('detail').replaceChildren(
        h('div', { class: 'card placeholder muted' }, 'Select an account to see its health, signals, advisories and tickets.'),
      );
    }
  });

  void start();
})();
