/* global document, window, location, fetch, URLSearchParams, uPlot, setTimeout, clearInterval, setInterval */
// The console's pages: a hand-written single-page app over the JSON API (/api/). Hash routes
// (#/topics, #/topic/NAME, ...) so the server serves one page. Every list is paged by the API.
'use strict';

const main = document.getElementById('main');
const PAGE_SIZE = 50;
let refreshTimer;

// ---- helpers ----

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
function fmtTime(ms) {
  if (!ms) return '-';
  const d = new Date(Number(ms));
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
function fmtNum(n) {
  return n === undefined || n === null ? '-' : Number(n).toLocaleString('en-US');
}
function fmtBytes(n) {
  if (n === undefined || n === null) return '-';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}
function toast(text, bad) {
  const box = document.getElementById('toast');
  const el = document.createElement('div');
  el.textContent = text;
  if (bad) el.className = 'bad';
  box.appendChild(el);
  setTimeout(() => el.remove(), bad ? 8000 : 4000);
}
function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query] = h.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { page: parts[0] || 'cluster', arg: parts[1], query: new URLSearchParams(query || '') };
}
function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// Answers that are not 2xx become ApiError with the API's own sentence.
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
  const r = await fetch(`/api${path}`, init);
  const text = await r.text();
  let data;
  try { data = text ? JSON.parse(text) : {}; } catch { data = { error: text }; }
  if (r.status === 401 && path !== '/login') { showLogin(); throw new ApiError(401, 'login required'); }
  if (!r.ok) throw new ApiError(r.status, data.error || `HTTP ${r.status}`);
  return data;
}
const get = (path, q) => api('GET', q ? `${path}?${new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined && v !== '')).toString()}` : path);

function errorBox(err) {
  if (err.status === 501) return `<div class="notice">${esc(err.message)}</div>`;
  return `<div class="error">${esc(err.message)}</div>`;
}
function pager(p, onPage) {
  const pages = Math.max(1, Math.ceil(p.total / p.size));
  const div = document.createElement('div');
  div.className = 'pager';
  div.innerHTML = `<span class="muted">${fmtNum(p.total)} in all · page ${p.page} of ${pages}</span>
    <button class="secondary" data-p="prev" ${p.page <= 1 ? 'disabled' : ''}>‹ Prev</button>
    <button class="secondary" data-p="next" ${p.page >= pages ? 'disabled' : ''}>Next ›</button>`;
  div.querySelector('[data-p=prev]').onclick = () => onPage(p.page - 1);
  div.querySelector('[data-p=next]').onclick = () => onPage(p.page + 1);
  return div;
}
function table(headers, rows, empty = 'Nothing here yet.') {
  if (rows.length === 0) return `<div class="empty">${esc(empty)}</div>`;
  const th = headers.map((h) => `<th class="${h.endsWith('#') ? 'num' : ''}">${esc(h.replace(/#$/, ''))}</th>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`;
}
const td = (v) => `<td>${v}</td>`;
const tdn = (v) => `<td class="num">${v}</td>`;
function formData(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.type === 'number') { if (el.value !== '') out[el.name] = Number(el.value); }
    else if (el.value !== '') out[el.name] = el.value;
  }
  return out;
}
function setActive(page) {
  const map = { topic: 'topics', group: 'groups', message: 'messages' };
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === (map[page] || page));
}

// ---- login ----

// With ACL on, the cluster's admin accounts sign in too (accessKey as user, secretKey as password).
let aclLogin = false;

function showLogin() {
  clearInterval(refreshTimer);
  document.body.dataset.ready = 'login';
  document.getElementById('nav').hidden = true;
  main.innerHTML = `<div class="panel login"><h1>Sign in</h1>
    <form class="stack" id="login-form">
      <label>User <input name="user" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
      ${aclLogin ? '<p class="muted" id="acl-hint">ACL is on: an admin account signs in with its accessKey and secretKey.</p>' : ''}
      <div id="login-error"></div>
    </form></div>`;
  document.getElementById('login-form').onsubmit = async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/login', formData(e.target));
      document.getElementById('nav').hidden = false;
      document.getElementById('logout').hidden = false;
      render();
    } catch (err) {
      document.getElementById('login-error').innerHTML = `<div class="error">${esc(err.message)}</div>`;
    }
  };
}

// ---- Cluster ----

let tpsPlot;
async function pageCluster() {
  main.innerHTML = `<h1>Cluster</h1><div id="cards" class="cards"></div>
    <div class="grid"><div class="panel"><h2>Messages in / out per second</h2><div id="tps" class="chart"></div><div class="muted" id="tps-note"></div></div>
    <div class="panel"><h2>Name servers</h2><div id="ns"></div></div></div>
    <div class="panel"><h2>Broker groups</h2><div id="brokers"></div></div>`;
  const c = await get('/cluster');
  const members = c.groups.flatMap((g) => g.members);
  const put = members.reduce((s, m) => s + (m.role === 'MASTER' ? m.putTps || 0 : 0), 0);
  const got = members.reduce((s, m) => s + (m.role === 'MASTER' ? m.getTps || 0 : 0), 0);
  document.getElementById('cards').innerHTML = [
    ['Broker groups', c.groups.length], ['Brokers', members.length], ['Name servers', c.namesrvs.length],
    ['In TPS (10 s)', put.toFixed(1)], ['Out TPS (10 s)', got.toFixed(1)],
  ].map(([k, v]) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`).join('');
  document.getElementById('ns').innerHTML = table(['Address', 'State', 'Latency#'], c.namesrvs.map((n) => [
    td(`<code>${esc(n.addr)}</code>`), td(n.ok ? '<span class="badge ok">up</span>' : `<span class="badge bad">down</span> <span class="muted">${esc(n.error || '')}</span>`), tdn(n.latencyMs !== undefined ? `${n.latencyMs} ms` : '-'),
  ]));
  const rows = [];
  for (const g of c.groups) {
    for (const m of g.members) {
      rows.push([
        td(esc(g.cluster)), td(`<b>${esc(g.brokerName)}</b>`), tdn(m.brokerId), td(`<code>${esc(m.addr)}</code>`),
        td(m.error ? `<span class="badge bad">unreachable</span>` : `<span class="badge ${m.role === 'MASTER' ? 'ok' : ''}">${esc(m.role)}</span>`),
        td(esc(m.version || '-')), tdn(m.epoch ?? '-'), tdn(fmtBytes(m.commitLogBytes)),
        td(m.diskFull ? `<span class="badge bad" title="${esc(m.writeBlocked || '')}">disk full</span>` : '<span class="badge ok">ok</span>'),
        tdn(m.lagBytes === undefined ? '-' : fmtBytes(m.lagBytes)), tdn(m.putTps ?? '-'), tdn(m.getTps ?? '-'), td(esc(m.uptime || m.error || '')),
      ]);
    }
  }
  document.getElementById('brokers').innerHTML = table(['Cluster', 'Group', 'ID#', 'Address', 'Role', 'Version', 'Epoch#', 'Commit log#', 'Disk', 'Repl. lag#', 'In TPS#', 'Out TPS#', 'Uptime'], rows, 'No broker is registered with the name servers.');
  await drawTps();
  refreshTimer = setInterval(() => void drawTps().catch(() => {}), 5000);
}

// A chart with one reading (or none) still spans minutes, not years.
function xRange(u, min, max) {
  if (min === null || max === null || !Number.isFinite(min)) { const now = Date.now() / 1000; return [now - 300, now]; }
  return max - min < 60 ? [max - 60, max + 1] : [min, max];
}

async function drawTps() {
  const el = document.getElementById('tps');
  if (!el) return;
  const t = await get('/tps');
  const xs = t.samples.map((s) => s.t / 1000);
  const data = [xs, t.samples.map((s) => s.put), t.samples.map((s) => s.get)];
  document.getElementById('tps-note').textContent = t.samples.length < 2 ? `Sampled by the console every ${t.intervalMs / 1000} s; the chart fills in as samples arrive.` : `${t.samples.length} samples, every ${t.intervalMs / 1000} s`;
  const width = Math.max(300, el.clientWidth || 500);
  if (tpsPlot && tpsPlot.root.isConnected) { tpsPlot.setData(data); return; }
  el.innerHTML = '';
  tpsPlot = new uPlot({
    width, height: 220,
    series: [{}, { label: 'in (put)', stroke: '#2f6fde', width: 2, fill: 'rgba(47,111,222,.08)' }, { label: 'out (get)', stroke: '#1f9d55', width: 2 }],
    axes: [{}, { label: 'msg/s', size: 60 }],
    scales: { x: { time: true, range: xRange }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
  }, data, el);
}

// ---- Topics ----

async function pageTopics(_arg, q) {
  const filter = q.get('filter') || '';
  const kind = q.get('kind') || 'normal';
  const page = Number(q.get('page') || 1);
  main.innerHTML = `<h1>Topics</h1>
    <div class="panel"><div class="toolbar">
      <input id="f" placeholder="Filter by name" value="${esc(filter)}">
      <select id="k">${['normal', 'retry', 'dlq', 'system', 'all'].map((k) => `<option ${k === kind ? 'selected' : ''}>${k}</option>`).join('')}</select>
      <span class="grow"></span><button id="new-topic">New topic</button></div>
      <div id="create" hidden></div><div id="list"></div></div>`;
  const nav = (p) => go(`#/topics?${new URLSearchParams({ filter: document.getElementById('f').value, kind: document.getElementById('k').value, page: String(p) })}`);
  document.getElementById('f').onkeydown = (e) => { if (e.key === 'Enter') nav(1); };
  document.getElementById('k').onchange = () => nav(1);
  document.getElementById('new-topic').onclick = () => topicForm(document.getElementById('create'));
  const r = await get('/topics', { filter, kind, page, size: PAGE_SIZE });
  const list = document.getElementById('list');
  list.innerHTML = table(['Topic', 'Kind', 'Message type', 'Read#', 'Write#', 'Perm', 'Brokers'], r.items.map((t) => [
    td(`<a href="#/topic/${encodeURIComponent(t.topic)}">${esc(t.topic)}</a>`), td(`<span class="badge">${esc(t.kind)}</span>`), td(esc(t.messageType)),
    tdn(t.readQueueNums), tdn(t.writeQueueNums), td(`<code>${esc(t.perm)}</code>`), td(esc(t.brokers.join(', '))),
  ]), 'No topic matches.');
  list.appendChild(pager(r, nav));
}

function topicForm(box, t) {
  box.hidden = false;
  box.innerHTML = `<form class="inline panel" id="topic-form">
    <label>Topic <input name="topic" required pattern="[%\\|a-zA-Z0-9_\\-]{1,127}" value="${esc(t?.topicName || '')}" ${t ? 'readonly' : ''}></label>
    <label>Read queues <input name="readQueueNums" type="number" min="1" max="1024" value="${t?.readQueueNums ?? 8}"></label>
    <label>Write queues <input name="writeQueueNums" type="number" min="1" max="1024" value="${t?.writeQueueNums ?? 8}"></label>
    <label>Permission <select name="perm">${[[6, 'read + write'], [4, 'read only'], [2, 'write only']].map(([v, l]) => `<option value="${v}" ${t && t.perm === v ? 'selected' : ''}>${l}</option>`).join('')}</select></label>
    <label>Message type <select name="messageType">${['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'].map((m) => `<option ${t?.attributes?.['+message.type'] === m ? 'selected' : ''}>${m}</option>`).join('')}</select></label>
    <label>Cluster <input name="cluster" placeholder="(the only one)"></label>
    <button type="submit">${t ? 'Update' : 'Create'}</button></form>`;
  const form = document.getElementById('topic-form');
  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = formData(form);
    body.perm = Number(body.perm);
    body.order = body.messageType === 'FIFO';
    try {
      await api('POST', '/topics', body);
      toast(`Topic ${body.topic} saved`);
      go(`#/topic/${encodeURIComponent(body.topic)}`);
    } catch (err) { toast(err.message, true); }
  };
}

async function pageTopic(name) {
  main.innerHTML = `<h1>Topic <code>${esc(name)}</code></h1><div id="body"></div>`;
  const t = await get(`/topics/${encodeURIComponent(name)}`);
  const first = t.brokers.find((b) => b.config);
  const rows = [];
  for (const b of t.brokers) {
    if (b.error) { rows.push([td(esc(b.brokerName)), `<td colspan="4" class="muted">${esc(b.error)}</td>`]); continue; }
    for (const q of b.queues) rows.push([td(esc(b.brokerName)), tdn(q.queueId), tdn(fmtNum(q.minOffset)), tdn(fmtNum(q.maxOffset)), td(fmtTime(q.lastUpdateTimestamp))]);
  }
  document.getElementById('body').innerHTML = `
    <div class="cards">
      <div class="card"><div class="k">Message type</div><div class="v">${esc(first?.config.attributes?.['+message.type'] || (first?.config.order ? 'FIFO' : 'NORMAL'))}</div></div>
      <div class="card"><div class="k">Queues (r / w)</div><div class="v">${esc(first ? `${first.config.readQueueNums} / ${first.config.writeQueueNums}` : '-')}</div></div>
      <div class="card"><div class="k">Permission</div><div class="v">${esc(first?.config.permString || '-')}</div></div>
      <div class="card"><div class="k">Messages stored</div><div class="v">${fmtNum(t.brokers.flatMap((b) => b.queues || []).reduce((s, q) => s + q.maxOffset - q.minOffset, 0))}</div></div>
    </div>
    <div class="grid">
      <div class="panel"><h2>Send a test message</h2><form class="stack" id="send-form">
        <label>Tags <input name="tags" placeholder="TagA"></label>
        <label>Keys (space separated) <input name="keys"></label>
        <label>Body <textarea name="body" required>Hello from the Apogee console</textarea></label>
        <div><button type="submit">Send</button></div><div id="send-result"></div></form></div>
      <div class="panel"><h2>Route</h2>${table(['Broker', 'Addresses', 'Read#', 'Write#', 'Perm'], t.route.brokerDatas.map((b) => {
        const qd = t.route.queueDatas.find((q) => q.brokerName === b.brokerName) || {};
        return [td(esc(b.brokerName)), td(`<code>${esc(Object.entries(b.brokerAddrs).map(([id, a]) => `${id}=${a}`).join(' '))}</code>`), tdn(qd.readQueueNums ?? '-'), tdn(qd.writeQueueNums ?? '-'), tdn(qd.perm ?? '-')];
      }))}
      <h2 style="margin-top:16px">Consumer groups</h2>${t.consumerGroups.length ? t.consumerGroups.map((g) => `<a class="badge" href="#/group/${encodeURIComponent(g)}">${esc(g)}</a>`).join(' ') : '<span class="muted">none yet</span>'}</div>
    </div>
    <div class="panel"><h2>Queues</h2>${table(['Broker', 'Queue#', 'Min offset#', 'Max offset#', 'Last stored'], rows)}</div>
    <div class="panel"><div class="toolbar"><button class="secondary" id="edit">Edit topic</button>
      <a class="badge" href="#/messages?topic=${encodeURIComponent(name)}">Browse messages</a><span class="grow"></span>
      <button class="danger" id="delete">Delete topic</button></div><div id="edit-box" hidden></div></div>`;
  document.getElementById('edit').onclick = () => topicForm(document.getElementById('edit-box'), first?.config);
  document.getElementById('delete').onclick = async () => {
    if (!window.confirm(`Delete topic ${name} from the cluster and the name servers?`)) return;
    try { await api('DELETE', `/topics/${encodeURIComponent(name)}`); toast(`Topic ${name} deleted`); go('#/topics'); } catch (err) { toast(err.message, true); }
  };
  document.getElementById('send-form').onsubmit = async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', `/topics/${encodeURIComponent(name)}/messages`, formData(e.target));
      document.getElementById('send-result').innerHTML = `<div class="notice">${esc(r.sendStatus)} · msgId <a href="#/message/${esc(r.msgId)}?topic=${encodeURIComponent(name)}"><code>${esc(r.msgId)}</code></a> · queue ${esc(r.queue.brokerName)}/${esc(r.queue.queueId)} offset ${esc(r.queueOffset)}</div>`;
    } catch (err) { document.getElementById('send-result').innerHTML = errorBox(err); }
  };
}

// ---- Consumer groups ----

async function pageGroups(_arg, q) {
  const filter = q.get('filter') || '';
  const page = Number(q.get('page') || 1);
  main.innerHTML = `<h1>Consumer groups</h1><div class="panel"><div class="toolbar">
    <input id="f" placeholder="Filter by name" value="${esc(filter)}"><span class="grow"></span><button id="new-group">New group</button></div>
    <div id="create" hidden></div><div id="list"></div></div>`;
  const nav = (p) => go(`#/groups?${new URLSearchParams({ filter: document.getElementById('f').value, page: String(p) })}`);
  document.getElementById('f').onkeydown = (e) => { if (e.key === 'Enter') nav(1); };
  document.getElementById('new-group').onclick = () => groupForm(document.getElementById('create'));
  const r = await get('/groups', { filter, page, size: PAGE_SIZE });
  const list = document.getElementById('list');
  list.innerHTML = table(['Group', 'Online#', 'Protocols', 'Total lag#', 'Orderly', 'Retry max#', 'Brokers'], r.items.map((g) => [
    td(`<a href="#/group/${encodeURIComponent(g.group)}">${esc(g.group)}</a>`),
    tdn(g.online ? `<span class="badge ok">${g.online}</span>` : '<span class="badge">0</span>'),
    td(esc((g.protocols || []).join(', ') || '-')), tdn(fmtNum(g.totalLag)), td(g.orderly ? 'yes' : 'no'), tdn(g.retryMaxTimes), td(esc(g.brokers.join(', '))),
  ]), 'No group matches.');
  list.appendChild(pager(r, nav));
}

function groupForm(box, g) {
  box.hidden = false;
  box.innerHTML = `<form class="inline panel" id="group-form">
    <label>Group <input name="group" required pattern="[%\\|a-zA-Z0-9_\\-]{1,255}" value="${esc(g?.group || '')}" ${g ? 'readonly' : ''}></label>
    <label>Retry max times <input name="retryMaxTimes" type="number" min="0" max="16" value="${g?.retryMaxTimes ?? 16}"></label>
    <label><span>Orderly</span><input name="orderly" type="checkbox" ${g?.orderly ? 'checked' : ''}></label>
    <label><span>Consume enabled</span><input name="consumeEnable" type="checkbox" ${g === undefined || g.consumeEnable ? 'checked' : ''}></label>
    <label>Cluster <input name="cluster" placeholder="(the only one)"></label>
    <button type="submit">${g ? 'Update' : 'Create'}</button></form>`;
  const form = document.getElementById('group-form');
  form.onsubmit = async (e) => {
    e.preventDefault();
    const body = formData(form);
    try { await api('POST', '/groups', body); toast(`Group ${body.group} saved`); go(`#/group/${encodeURIComponent(body.group)}`); } catch (err) { toast(err.message, true); }
  };
}

async function pageGroup(name) {
  main.innerHTML = `<h1>Consumer group <code>${esc(name)}</code></h1><div id="body"></div>`;
  const g = await get(`/groups/${encodeURIComponent(name)}`);
  const topics = [...new Set(g.queues.map((q) => q.topic).filter((t) => !t.startsWith('%RETRY%')))];
  document.getElementById('body').innerHTML = `
    <div class="cards">
      <div class="card"><div class="k">Online clients</div><div class="v" id="online">${g.clients.length}</div></div>
      <div class="card"><div class="k">Total lag</div><div class="v" id="lag">${fmtNum(g.totalLag)}</div></div>
      <div class="card"><div class="k">In retry</div><div class="v">${fmtNum(g.retryMessages)}</div></div>
      <div class="card"><div class="k">Dead letters</div><div class="v">${g.dlqMessages ? `<a href="#/dlq/${encodeURIComponent(name)}">${fmtNum(g.dlqMessages)}</a>` : 0}</div></div>
      <div class="card"><div class="k">Retry max / orderly</div><div class="v">${esc(g.retryMaxTimes)} / ${g.orderly ? 'yes' : 'no'}</div></div>
    </div>
    <div class="panel"><h2>Lag while this page is open</h2><div id="lag-chart" class="chart"></div><div class="muted" id="lag-note"></div></div>
    <div class="panel"><h2>Online clients</h2>${table(['Client id', 'Address / host', 'Protocol', 'Type', 'Language', 'Version'], g.clients.map((c) => [
      td(`<code>${esc(c.clientId)}</code>`), td(esc(c.addr)), td(`<span class="badge ${c.protocol === 'grpc' ? 'warn' : ''}">${c.protocol === 'grpc' ? '5.x gRPC' : '4.x remoting'}</span>`), td(esc(c.clientType || 'consumer')), td(esc(c.language)), td(esc(c.version)),
    ]), 'No client of this group is online.')}</div>
    <div class="panel"><h2>Queues</h2>${table(['Topic', 'Broker', 'Queue#', 'Broker offset#', 'Consumer offset#', 'Lag#', 'Client', 'Last consumed'], g.queues.map((q) => [
      td(esc(q.topic)), td(esc(q.brokerName)), tdn(q.queueId), tdn(fmtNum(q.brokerOffset)), tdn(fmtNum(q.consumerOffset)), tdn(q.lag ? `<b>${fmtNum(q.lag)}</b>` : 0), td(`<code>${esc(q.client || '-')}</code>`), td(fmtTime(q.lastTimestamp)),
    ]), 'The group has no offsets yet.')}</div>
    <div class="grid">
      <div class="panel"><h2>Reset offset by time</h2><form class="inline" id="reset-form">
        <label>Topic <select name="topic">${topics.map((t) => `<option>${esc(t)}</option>`).join('')}</select></label>
        <label>To the first message stored at or after <input name="time" type="datetime-local" step="1" required></label>
        <button type="submit" ${topics.length ? '' : 'disabled'}>Reset</button></form><div id="reset-result"></div></div>
      <div class="panel"><h2>Settings</h2><div class="toolbar"><button class="secondary" id="edit">Edit group</button><span class="grow"></span><button class="danger" id="delete">Delete group</button></div><div id="edit-box" hidden></div></div>
    </div>`;
  const now = new Date(Date.now() - 3600_000);
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  document.querySelector('#reset-form [name=time]').value = local;
  document.getElementById('reset-form').onsubmit = async (e) => {
    e.preventDefault();
    const f = formData(e.target);
    const timestamp = new Date(f.time).getTime();
    try {
      const r = await api('POST', `/groups/${encodeURIComponent(name)}/reset-offset`, { topic: f.topic, timestamp });
      document.getElementById('reset-result').innerHTML = `<div class="notice">Offsets of ${esc(f.topic)} reset (${r.queues.length} queues).</div>`;
    } catch (err) { document.getElementById('reset-result').innerHTML = errorBox(err); }
  };
  document.getElementById('edit').onclick = () => groupForm(document.getElementById('edit-box'), g);
  startLagChart(name, g.totalLag);
  document.getElementById('delete').onclick = async () => {
    if (!window.confirm(`Delete group ${name}?`)) return;
    try { await api('DELETE', `/groups/${encodeURIComponent(name)}`); toast(`Group ${name} deleted`); go('#/groups'); } catch (err) { toast(err.message, true); }
  };
}

// The group's total lag, read every 5 s while its page is open (the brokers keep no history of it).
function startLagChart(name, first) {
  const el = document.getElementById('lag-chart');
  const points = [[Date.now() / 1000], [first]];
  const plot = new uPlot({
    width: Math.max(300, el.clientWidth || 600), height: 180,
    series: [{}, { label: 'total lag', stroke: '#d98b00', width: 2, fill: 'rgba(217,139,0,.08)' }],
    axes: [{}, { label: 'messages', size: 70 }],
    scales: { x: { time: true, range: xRange }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
  }, points, el);
  const note = () => { document.getElementById('lag-note').textContent = `${points[0].length} reading${points[0].length > 1 ? 's' : ''}, every 5 s`; };
  note();
  refreshTimer = setInterval(async () => {
    try {
      const g = await get(`/groups/${encodeURIComponent(name)}`);
      points[0].push(Date.now() / 1000);
      points[1].push(g.totalLag);
      if (points[0].length > 360) { points[0].shift(); points[1].shift(); }
      plot.setData(points);
      document.getElementById('lag').textContent = fmtNum(g.totalLag);
      document.getElementById('online').textContent = String(g.clients.length);
      note();
    } catch { /* the next reading may work; the page keeps what it has */ }
  }, 5000);
}

// ---- Messages ----

async function pageMessages(_arg, q) {
  const mode = q.get('mode') || 'key';
  const topic = q.get('topic') || '';
  const hourAgo = Date.now() - 3600_000;
  main.innerHTML = `<h1>Messages</h1><div class="panel">
    <div class="tabs">${[['key', 'By key'], ['id', 'By message id'], ['time', 'By topic and time']].map(([m, l]) => `<button data-mode="${m}" class="${m === mode ? 'on' : ''}">${l}</button>`).join('')}</div>
    <form class="inline" id="q">
      <label>Topic <input name="topic" value="${esc(topic)}" ${mode === 'id' ? '' : 'required'} placeholder="${mode === 'id' ? '(needed for client ids)' : ''}"></label>
      ${mode === 'key' ? `<label>Key <input name="key" required value="${esc(q.get('key') || '')}"></label>` : ''}
      ${mode === 'id' ? `<label>Message id <input name="id" required size="34" value="${esc(q.get('id') || '')}"></label>` : ''}
      ${mode === 'time' ? `<label>From <input name="begin" type="datetime-local" step="1" value="${esc(q.get('begin') || isoLocal(hourAgo))}"></label><label>To <input name="end" type="datetime-local" step="1" value="${esc(q.get('end') || isoLocal(Date.now() + 60_000))}"></label>` : ''}
      <button type="submit">Search</button></form></div><div id="results"></div>`;
  for (const b of document.querySelectorAll('.tabs button')) b.onclick = () => go(`#/messages?${new URLSearchParams({ mode: b.dataset.mode, topic: document.querySelector('#q [name=topic]').value })}`);
  document.getElementById('q').onsubmit = (e) => {
    e.preventDefault();
    go(`#/messages?${new URLSearchParams({ mode, ...formData(e.target), run: '1' })}`);
  };
  if (!q.get('run')) return;
  const box = document.getElementById('results');
  box.innerHTML = '<div class="panel muted">Searching…</div>';
  try {
    let r;
    if (mode === 'key') r = await get('/messages/by-key', { topic, key: q.get('key') });
    else if (mode === 'id') r = await get('/messages/by-id', { id: q.get('id'), topic: topic || undefined });
    else r = await get('/messages/by-time', { topic, begin: new Date(q.get('begin')).getTime(), end: new Date(q.get('end')).getTime(), page: q.get('page') || 1, size: PAGE_SIZE });
    box.innerHTML = `<div class="panel" id="list">${r.capped ? '<div class="notice">Only the first 2,000 messages of this range were read; narrow the range to see the rest.</div>' : ''}${table(['Message id', 'Topic', 'Tags', 'Keys', 'Queue', 'Stored', 'Size#'], r.items.map((m) => [
      td(`<a href="#/message/${esc(m.msgId)}?topic=${encodeURIComponent(m.topic)}"><code>${esc(m.msgId)}</code></a>`), td(esc(m.topic)), td(esc(m.tags || '')), td(esc(m.keys.join(' '))),
      td(`${esc(m.brokerName)}/${m.queueId}@${m.queueOffset}`), td(fmtTime(m.storeTimestamp)), tdn(fmtBytes(m.bodySize)),
    ]), 'No message found.')}</div>`;
    if (r.total !== undefined && r.size) document.getElementById('list').appendChild(pager(r, (p) => { q.set('page', String(p)); go(`#/messages?${q}`); }));
  } catch (err) { box.innerHTML = errorBox(err); }
}
function isoLocal(ms) {
  const d = new Date(ms);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

async function pageMessage(id, q) {
  const topic = q.get('topic') || '';
  main.innerHTML = `<h1>Message <code>${esc(id)}</code></h1><div id="body"></div>`;
  const d = await get(`/messages/${encodeURIComponent(id)}`, { topic: topic || undefined });
  const m = d.message;
  const props = Object.entries(m.properties).sort(([a], [b]) => a.localeCompare(b));
  document.getElementById('body').innerHTML = `
    <div class="grid">
      <div class="panel"><h2>Message</h2><dl class="props">
        <dt>Topic</dt><dd>${esc(m.topic)}${m.originTopic !== m.topic ? ` <span class="muted">(from ${esc(m.originTopic)})</span>` : ''}</dd>
        <dt>Message id</dt><dd><code>${esc(m.msgId)}</code></dd><dt>Offset id</dt><dd><code>${esc(m.offsetMsgId)}</code></dd>
        <dt>Tags</dt><dd>${esc(m.tags || '-')}</dd><dt>Keys</dt><dd>${esc(m.keys.join(' ') || '-')}</dd>
        <dt>Queue</dt><dd>${esc(m.brokerName)} / ${m.queueId} @ ${m.queueOffset}</dd>
        <dt>Born</dt><dd>${fmtTime(m.bornTimestamp)} from ${esc(m.bornHost)}</dd><dt>Stored</dt><dd>${fmtTime(m.storeTimestamp)} on ${esc(m.storeHost)}</dd>
        <dt>Reconsumed</dt><dd>${m.reconsumeTimes} times</dd><dt>Body</dt><dd>${fmtBytes(m.bodySize)}</dd></dl></div>
      <div class="panel"><h2>Properties</h2><dl class="props">${props.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></div>
    </div>
    <div class="panel"><h2>Body</h2><div class="tabs">${['text', 'json', 'hex'].map((t) => `<button data-view="${t}" ${t === 'json' && d.body.json === undefined ? 'disabled' : ''}>${t.toUpperCase()}</button>`).join('')}</div>
      <pre class="body" id="body-view"></pre>${d.body.truncated ? '<div class="muted">Preview cut at 64 KiB.</div>' : ''}</div>
    <div class="panel"><h2>Trace</h2><div id="trace"></div></div>
    <div class="panel"><h2>Diagnosis</h2><div id="diag"></div></div>
    <div class="panel"><h2>Resend</h2><form class="inline" id="resend">
      <label>To consumer group (its retry topic; empty = the topic itself) <input name="group"></label><button type="submit">Resend</button></form><div id="resend-result"></div></div>`;
  const views = { text: d.body.text, json: d.body.json === undefined ? '' : JSON.stringify(d.body.json, null, 2), hex: (d.body.hex.match(/.{1,32}/g) || []).map((l) => l.replace(/(..)/g, '$1 ')).join('\n') };
  const show = (v) => {
    document.getElementById('body-view').textContent = views[v];
    for (const b of document.querySelectorAll('[data-view]')) b.classList.toggle('on', b.dataset.view === v);
  };
  for (const b of document.querySelectorAll('[data-view]')) b.onclick = () => show(b.dataset.view);
  show(d.body.json !== undefined ? 'json' : 'text');
  drawTrace(document.getElementById('trace'), d.trace, m);
  const diag = d.diagnosis;
  document.getElementById('diag').innerHTML = diag.available
    ? `<p>${esc(diag.verdict)}</p>${table(['Group', 'State', 'Why'], (diag.groups || []).map((g) => [td(`<a href="#/group/${encodeURIComponent(g.group)}">${esc(g.group)}</a>`), td(`<span class="badge ${DIAG_CLASS[g.state] || ''}">${esc(g.state)}</span>`), td(esc(g.reason))]), 'No group consumes this topic.')}`
    : `<div class="notice">${esc(diag.reason)}</div>`;
  document.getElementById('resend').onsubmit = async (e) => {
    e.preventDefault();
    const f = formData(e.target);
    try {
      const r = await api('POST', `/messages/${encodeURIComponent(m.offsetMsgId)}/resend`, { topic: m.topic, ...f });
      document.getElementById('resend-result').innerHTML = `<div class="notice">Resent ${r.resent} message.</div>`;
    } catch (err) { document.getElementById('resend-result').innerHTML = errorBox(err); }
  };
}

// Diagnosis states as apogee admin diagnoseMsg names them.
const DIAG_CLASS = { consumed: 'ok', pending: '', inflight: '', retrying: 'warn', dlq: 'bad', filtered: 'warn', noConsumer: 'bad' };

// The trace as a timeline: one row per event, its bar from when it happened to that + its cost.
// The message's own born and store times frame it when the trace has no record of them.
const TRACE_CLASS = { Pub: 'pub', Stored: 'pub', SubBefore: 'before', Delivered: 'before' };
function drawTrace(box, trace, m) {
  if (!trace.available) { box.innerHTML = `<div class="notice">No trace topic (${esc(trace.topic)}) on this cluster: message traces are not available on this broker yet.</div>`; return; }
  const own = [{ type: 'Born', timestamp: m.bornTimestamp, costMs: 0, group: '', success: true, clientHost: m.bornHost, detail: {} }];
  if (!trace.events.some((e) => e.type === 'Stored')) own.push({ type: 'Stored', timestamp: m.storeTimestamp, costMs: 0, group: m.brokerName, success: true, clientHost: m.storeHost, detail: {} });
  const events = [...own, ...trace.events].filter((e) => e.timestamp > 0).sort((a, b) => a.timestamp - b.timestamp);
  const t0 = events[0].timestamp;
  const t1 = Math.max(...events.map((e) => e.timestamp + e.costMs), t0 + 1);
  const span = t1 - t0;
  const pct = (t) => ((t - t0) / span) * 100;
  const title = (e) => [fmtTime(e.timestamp), `${e.costMs} ms`, e.clientHost, ...Object.entries(e.detail || {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(' · ');
  box.innerHTML = `<div class="timeline">${events.map((e) => `<div class="tl-row"><div class="tl-label" title="${esc(title(e))}">${esc(e.type)} <span class="muted">${esc(e.group)}</span></div>
    <div class="tl-track"><div class="tl-bar ${e.success ? TRACE_CLASS[e.type] || '' : 'fail'}" style="left:${Math.min(99, pct(e.timestamp)).toFixed(2)}%;width:${Math.max(0.6, (e.costMs / span) * 100).toFixed(2)}%" title="${esc(title(e))}"></div></div></div>`).join('')}</div>
    <div class="tl-axis"><span>${fmtTime(t0)}</span><span>+${span} ms</span></div>
    ${trace.events.length === 0 ? '<div class="muted">No trace record of this message yet: the broker writes its records every few seconds.</div>' : ''}`;
}

// ---- Dead letters ----

async function pageDlq(group, q) {
  if (!group) {
    main.innerHTML = '<h1>Dead letters</h1><div class="panel" id="list"></div>';
    const r = await get('/dlq');
    document.getElementById('list').innerHTML = table(['Consumer group', 'Dead letters#'], r.items.map((g) => [td(`<a href="#/dlq/${encodeURIComponent(g.group)}">${esc(g.group)}</a>`), tdn(fmtNum(g.messages))]), 'No group has dead letters.');
    return;
  }
  const page = Number(q.get('page') || 1);
  main.innerHTML = `<h1>Dead letters of <code>${esc(group)}</code></h1><div class="panel"><div class="toolbar">
    <a href="/api/dlq/${encodeURIComponent(group)}/export" download><button class="secondary" type="button">Export as JSON Lines</button></a>
    <span class="grow"></span><button id="resend-sel" class="secondary">Resend selected</button><button id="resend-all">Resend all</button></div>
    <div class="progress" hidden id="prog"><div></div></div><div id="result"></div><div id="list"></div></div>`;
  const r = await get(`/dlq/${encodeURIComponent(group)}`, { page, size: PAGE_SIZE });
  const list = document.getElementById('list');
  list.innerHTML = table(['', 'Message id', 'Original topic', 'Keys', 'Stored', 'Retried#'], r.items.map((m) => [
    td(`<input type="checkbox" class="pick" value="${esc(m.offsetMsgId)}">`), td(`<a href="#/message/${esc(m.offsetMsgId)}"><code>${esc(m.msgId)}</code></a>`), td(esc(m.originTopic)), td(esc(m.keys.join(' '))), td(fmtTime(m.storeTimestamp)), tdn(m.reconsumeTimes),
  ]), 'No dead letter in this group.');
  list.appendChild(pager(r, (p) => go(`#/dlq/${encodeURIComponent(group)}?page=${p}`)));
  const resend = async (body) => {
    const prog = document.getElementById('prog');
    prog.hidden = false;
    prog.firstChild.style.width = '50%';
    try {
      const res = await api('POST', `/dlq/${encodeURIComponent(group)}/resend`, body);
      prog.firstChild.style.width = '100%';
      document.getElementById('result').innerHTML = `<div class="notice">Resent ${res.resent} to %RETRY%${esc(group)}${res.failed.length ? `, ${res.failed.length} failed: ${esc(res.failed[0].error)}` : ''}.</div>`;
    } catch (err) { document.getElementById('result').innerHTML = errorBox(err); } finally { setTimeout(() => { prog.hidden = true; }, 600); }
  };
  document.getElementById('resend-sel').onclick = () => {
    const ids = [...document.querySelectorAll('.pick:checked')].map((c) => c.value);
    if (ids.length === 0) { toast('Select dead letters first', true); return; }
    void resend({ ids });
  };
  document.getElementById('resend-all').onclick = () => { if (window.confirm(`Resend every dead letter of ${group}?`)) void resendAll(); };
  // Page by page, so the bar shows how far it got and a failure leaves the rest untouched.
  const resendAll = async () => {
    const prog = document.getElementById('prog');
    const result = document.getElementById('result');
    prog.hidden = false;
    let done = 0;
    let failed = 0;
    const size = 200;
    try {
      const first = await get(`/dlq/${encodeURIComponent(group)}`, { page: 1, size });
      const total = first.total;
      const pages = Math.max(1, Math.ceil(total / size));
      for (let p = 1; p <= pages; p++) {
        const pg = p === 1 ? first : await get(`/dlq/${encodeURIComponent(group)}`, { page: p, size });
        if (pg.items.length === 0) break;
        const res = await api('POST', `/dlq/${encodeURIComponent(group)}/resend`, { ids: pg.items.map((m) => m.offsetMsgId) });
        done += res.resent;
        failed += res.failed.length;
        prog.firstChild.style.width = `${Math.round((Math.min(total, p * size) / total) * 100)}%`;
        result.innerHTML = `<div class="notice">Resent ${done} of ${total} to %RETRY%${esc(group)}${failed ? `, ${failed} failed` : ''}…</div>`;
      }
      result.innerHTML = `<div class="notice">Resent ${done} to %RETRY%${esc(group)}${failed ? `, ${failed} failed` : ''}.</div>`;
    } catch (err) { result.innerHTML = errorBox(err); } finally { setTimeout(() => { prog.hidden = true; }, 600); }
  };
}

// ---- Alarms ----

async function pageAlarms() {
  main.innerHTML = '<h1>Alarms</h1><div id="body"></div>';
  const r = await get('/alarms');
  const parts = [];
  for (const f of r.failures) parts.push(`<div class="error">${esc(f.addr)}: ${esc(f.error)}</div>`);
  for (const b of r.brokers) {
    if (!b.enabled) { parts.push(`<div class="panel"><h2>${esc(b.brokerName)} <span class="muted">${esc(b.addr)}</span></h2><div class="notice">Alarms are off on this broker (alarmEvaluateIntervalMs=0).</div></div>`); continue; }
    const rows = [];
    for (const rule of b.rules) {
      if (rule.alarms.length === 0) rows.push([td(esc(rule.name)), td(esc(rule.type)), td(esc(rule.scope)), td('<span class="badge ok">ok</span>'), td('-'), td('-'), td(esc(rule.threshold ?? '-'))]);
      for (const a of rule.alarms) rows.push([td(esc(rule.name)), td(esc(rule.type)), td(esc(a.scope || rule.scope)), td(`<span class="badge ${a.state === 'firing' ? 'bad' : a.state === 'pending' ? 'warn' : 'ok'}">${esc(a.state)}</span>`), td(fmtTime(a.since)), td(esc(a.value ?? '-')), td(esc(rule.threshold ?? '-'))]);
    }
    parts.push(`<div class="panel"><h2>${esc(b.brokerName)} <span class="muted">${esc(b.addr)} · rules from ${esc(b.source)} · evaluated ${fmtTime(b.lastEvaluatedAt)}</span></h2>
      ${b.reloadError ? `<div class="error">A change of the rules was refused: ${esc(b.reloadError.message)}</div>` : ''}
      ${table(['Rule', 'Type', 'Scope', 'State', 'Since', 'Value', 'Threshold'], rows, 'No rule.')}
      ${(b.history || []).length ? `<h2 style="margin-top:12px">History</h2>${table(['Rule', 'Scope', 'State', 'At', 'Value'], b.history.map((h) => [td(esc(h.rule)), td(esc(h.scope)), td(esc(h.state)), td(fmtTime(h.at)), td(esc(h.value ?? '-'))]))}` : ''}</div>`);
  }
  document.getElementById('body').innerHTML = parts.join('') || '<div class="empty">No broker answered.</div>';
}

// ---- router ----

const PAGES = { cluster: pageCluster, topics: pageTopics, topic: pageTopic, groups: pageGroups, group: pageGroup, messages: pageMessages, message: pageMessage, dlq: pageDlq, alarms: pageAlarms };

async function render() {
  clearInterval(refreshTimer);
  const r = route();
  setActive(r.page);
  const fn = PAGES[r.page] || pageCluster;
  delete document.body.dataset.ready;
  try {
    await fn(r.arg, r.query);
    document.body.dataset.ready = r.page;
  } catch (err) {
    if (err.status === 401) return;
    main.insertAdjacentHTML('beforeend', errorBox(err));
    document.body.dataset.ready = r.page;
  }
}

async function boot() {
  document.getElementById('logout').onclick = async () => { await api('POST', '/logout'); showLogin(); };
  window.addEventListener('hashchange', () => void render());
  const s = await api('GET', '/session');
  aclLogin = s.aclLogin === true;
  if (s.loginRequired && !s.loggedIn) { showLogin(); return; }
  if (s.loginRequired) document.getElementById('logout').hidden = false;
  await render();
}

void boot();
