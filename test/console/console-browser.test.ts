// Issue 16: the console's pages in headless Chromium (Debian's chromium driven by playwright-core)
// against a standalone on port 0 with data made by the real clients. Each page renders without
// console errors and is photographed into test-output/console/; a topic made in the page carries
// ali-ons traffic; a message is found by key and its detail page shows trace and diagnosis; a dead
// letter is resent from the page and consumed again; an offset reset from the page makes a
// consumer re-read; a wrong password is refused.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ADMIN, APP, BASE_ACL } from '../security/helpers.js';
import { ons, OnsHarness, sendAll, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { GrpcClients } from '../compat/helpers/grpc.js';
import { ApiClient, startConsoleStandalone, type ConsoleStandalone } from './console-harness.js';

/** Debian's package installs it here (CI's .ci/run installs it); CHROMIUM_PATH overrides. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-output/console/', import.meta.url));
// Without the background-networking flags Chromium's own connections are refused on a closed network.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

interface Watched {
  page: Page;
  errors: string[];
}

async function openPage(browser: Browser): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return { page, errors };
}

/** Navigates to a hash route and waits until the page says it rendered (body[data-ready]). */
async function visit(w: Watched, base: string, hash: string, ready: string): Promise<void> {
  await w.page.goto(`${base}/${hash}`);
  await w.page.waitForSelector(`body[data-ready="${ready}"]`, { timeout: 15_000 });
}

/** The group and state cells of a group's row in the message page's diagnosis table. */
async function diagRow(page: Page, group: string): Promise<string[]> {
  for (const row of await page.locator('#diag tbody tr').all()) {
    const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
    if (cells[0] === group) return cells.slice(0, 2);
  }
  return [`no row for ${group}: ${await page.textContent('#diag')}`];
}

async function shot(page: Page, name: string): Promise<void> {
  // A notice left from the previous step would cover the corner of every picture.
  await page.evaluate(() => ((globalThis as unknown as { document: { getElementById(id: string): { innerHTML: string } } }).document.getElementById('toast').innerHTML = ''));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

void describe('console browser', { skip }, () => {
  let s: ConsoleStandalone;
  let h: OnsHarness;
  let grpc: GrpcClients;
  let browser: Browser;
  let api: ApiClient;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await startConsoleStandalone();
    api = new ApiClient(s.base);
    h = new OnsHarness(s.asStandalone);
    grpc = new GrpcClients(s.grpc);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await grpc?.close();
    await h?.close();
    await s?.close();
  });

  void test('console browser - a topic created in the page is then used by ali-ons, and every page renders without console errors', async () => {
    const w = await openPage(browser);
    await visit(w, s.base, '#/topics', 'topics');
    await w.page.click('#new-topic');
    await w.page.fill('#topic-form [name=topic]', 'PageTopic');
    await w.page.fill('#topic-form [name=writeQueueNums]', '4');
    await w.page.fill('#topic-form [name=readQueueNums]', '4');
    await w.page.click('#topic-form button[type=submit]');
    await w.page.waitForSelector('body[data-ready="topic"]', { timeout: 15_000 });
    assert.match(await w.page.textContent('h1') ?? '', /PageTopic/);
    const producer = await h.producer('GID_page_p');
    const sent = await sendAll(producer, 8, (i) => {
      const m = new ons.Message('PageTopic', 'TagP', JSON.stringify({ n: i }));
      m.keys = [`page-key-${i}`];
      return m;
    });
    assert.ok(sent.every((r) => r.sendStatus === 'SEND_OK'));
    assert.deepEqual([...new Set(sent.map((r) => r.messageQueue.queueId))].sort().length, 4, 'the 4 queues set in the page');
    const seen: string[] = [];
    await h.consumer({ consumerGroup: 'GID_page_c' }, 'PageTopic', '*', async (m: OnsMessage) => void seen.push(m.body.toString()));
    const v5 = await grpc.simpleConsumer('GID_page_v5', { PageTopic: '*' });
    const got = await v5.receive(3, 30_000);
    for (const m of got) await v5.ack(m);
    await checkFor(15_000, 50, () => seen.length >= 8, 'ali-ons consumed the page topic');
    await checkFor(5000, 100, async () => (await api.get('/groups/GID_page_c')).body.totalLag === 0, 'offsets committed');

    const pages: [string, string, string][] = [
      ['#/cluster', 'cluster', 'cluster'],
      ['#/topics', 'topics', 'topics'],
      ['#/topic/PageTopic', 'topic', 'topic'],
      ['#/groups', 'groups', 'groups'],
      ['#/group/GID_page_v5', 'group', 'group-grpc'],
      ['#/group/GID_page_c', 'group', 'group'],
      ['#/messages', 'messages', 'messages'],
      ['#/dlq', 'dlq', 'dead-letters'],
      ['#/alarms', 'alarms', 'alarms'],
    ];
    for (const [hash, ready, name] of pages) {
      await visit(w, s.base, hash, ready);
      assert.equal(await w.page.locator('.error').count(), 0, `${hash} shows no error box: ${await w.page.locator('.error').allTextContents()}`);
      await shot(w.page, name);
    }
    // Let the TPS chart fill a little for the cluster screenshot, then take it again.
    await visit(w, s.base, '#/cluster', 'cluster');
    await checkFor(10_000, 200, async () => (await w.page.locator('#tps canvas').count()) > 0, 'the TPS chart');
    await shot(w.page, 'cluster');
    assert.deepEqual(w.errors, [], 'no console errors on any page');
    // The 5.x consumer shows online with its protocol, as the 4.x one does.
    await visit(w, s.base, '#/group/GID_page_v5', 'group');
    assert.match(await w.page.textContent('main') ?? '', /5\.x gRPC/);
    assert.equal(await w.page.textContent('#online'), '1');
    assert.equal(await w.page.textContent('#lag'), String(8 - got.length));
    await visit(w, s.base, '#/group/GID_page_c', 'group');
    assert.match(await w.page.textContent('main') ?? '', /4\.x remoting/);
    await w.page.close();
  });

  void test('console browser - a message sent by a client is found by key and its detail page shows body, trace and diagnosis', async () => {
    const w = await openPage(browser);
    const producer = await h.producer('GID_page_key_p');
    const m = new ons.Message('PageTopic', 'TagK', JSON.stringify({ order: 7, item: 'book' }));
    m.keys = ['order-7'];
    await producer.send(m);
    const found = await checkFor(10_000, 100, async () => (await api.get('/messages/by-key?topic=PageTopic&key=order-7')).body.items?.[0], 'indexed');
    // GID_page_c (started above) consumes it; the broker's trace records say so.
    await checkFor(15_000, 200, async () => (await api.get(`/messages/${found.msgId}?topic=PageTopic`)).body.trace.events.some((e: any) => e.type === 'Consumed'), 'consumed in the trace');
    await visit(w, s.base, '#/messages', 'messages');
    await w.page.fill('#q [name=topic]', 'PageTopic');
    await w.page.fill('#q [name=key]', 'order-7');
    await w.page.click('#q button[type=submit]');
    await w.page.waitForSelector('#list table a', { timeout: 15_000 });
    await shot(w.page, 'messages-by-key');
    await w.page.click('#list table a');
    await w.page.waitForSelector('body[data-ready="message"]', { timeout: 15_000 });
    assert.match(await w.page.textContent('#body-view') ?? '', /"item": "book"/);
    const rows = await w.page.locator('#trace .tl-label').allTextContents();
    for (const want of [/^Born/, /^Stored GID_page_key_p/, /^Delivered GID_page_c/, /^Consumed GID_page_c/]) assert.ok(rows.some((r) => want.test(r)), `${want} in the timeline: ${rows.join(' | ')}`);
    // The diagnosis names the group that consumed it, with the state apogee admin diagnoseMsg gives.
    assert.deepEqual(await diagRow(w.page, 'GID_page_c'), ['GID_page_c', 'consumed']);
    assert.match(await w.page.textContent('#diag p') ?? '', /stored on .* queue \d+ offset \d+.*consumed by GID_page_c/);
    await shot(w.page, 'message');

    // A group that consumed the topic once and has no consumer now: its row says so.
    await api.post('/topics', { topic: 'PageDiagTopic', readQueueNums: 1, writeQueueNums: 1 });
    await checkFor(5000, 50, async () => (await api.get('/topics/PageDiagTopic')).status === 200, 'the route');
    await sendAll(producer, 1, () => new ons.Message('PageDiagTopic', 'T', 'first'));
    let consumed = 0;
    const gone = await h.consumer({ consumerGroup: 'GID_page_gone' }, 'PageDiagTopic', '*', async () => void consumed++);
    await checkFor(20_000, 50, () => consumed === 1, 'the first one consumed');
    await h.closeConsumer(gone);
    await checkFor(10_000, 100, async () => (await api.get('/groups/GID_page_gone')).body.queues?.some((q: any) => q.topic === 'PageDiagTopic' && q.consumerOffset === 1), 'its offset committed');
    const late = new ons.Message('PageDiagTopic', 'T', 'second');
    late.keys = ['diag-late'];
    await producer.send(late);
    const lateFound = await checkFor(10_000, 100, async () => (await api.get('/messages/by-key?topic=PageDiagTopic&key=diag-late')).body.items?.[0], 'indexed');
    await w.page.goto(`${s.base}/#/message/${lateFound.msgId}?topic=PageDiagTopic`);
    await w.page.waitForSelector('body[data-ready="message"]', { timeout: 15_000 });
    assert.deepEqual(await diagRow(w.page, 'GID_page_gone'), ['GID_page_gone', 'noConsumer']);
    assert.match(await w.page.textContent('#diag') ?? '', /GID_page_gone has no online consumer, lag 1/);
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  void test('console browser - dead letters resent from the page (one selected, then all) are consumed again', async () => {
    const topic = 'PageDlqTopic';
    const group = 'GID_page_dlq';
    await api.post('/topics', { topic, readQueueNums: 1, writeQueueNums: 1 });
    await api.post('/groups', { group, retryMaxTimes: 0 });
    await checkFor(5000, 50, async () => (await api.get(`/topics/${topic}`)).status === 200, 'the route');
    const producer = await h.producer('GID_page_dlq_p');
    await sendAll(producer, 2, (i) => new ons.Message(topic, 'T', `page-dead-${i}`));
    let failing = true;
    const seen: string[] = [];
    await h.consumer({ consumerGroup: group, maxReconsumeTimes: 0 }, topic, '*', async (msg: OnsMessage) => {
      seen.push(msg.body.toString());
      if (failing) throw new Error('fails on purpose');
    });
    await checkFor(30_000, 200, async () => (await api.get(`/dlq/${group}`)).body.total === 2, 'two dead letters');
    failing = false;
    const before = seen.length;
    const w = await openPage(browser);
    await visit(w, s.base, `#/dlq/${group}`, 'dlq');
    assert.equal(await w.page.locator('.pick').count(), 2);
    await shot(w.page, 'dead-letters-group');
    await w.page.locator('.pick').first().check();
    await w.page.click('#resend-sel');
    await w.page.waitForSelector('#result .notice', { timeout: 15_000 });
    assert.match(await w.page.textContent('#result') ?? '', /Resent 1 to %RETRY%GID_page_dlq/);
    await checkFor(20_000, 50, () => seen.length > before, 'the resent dead letter consumed again');
    assert.equal(seen.length - before, 1);
    // "Resend all" goes page by page with a progress bar; both come back once more.
    w.page.once('dialog', (d) => void d.accept());
    await w.page.click('#resend-all');
    await w.page.waitForFunction(() => /Resent 2 to %RETRY%GID_page_dlq\./.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('result').textContent));
    await checkFor(20_000, 50, () => seen.length >= before + 3, 'both consumed again');
    assert.deepEqual(seen.slice(before + 1).sort(), ['page-dead-0', 'page-dead-1']);
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  void test('console browser - an offset reset from the page makes a consumer re-read (or says it is not available yet)', async () => {
    const topic = 'PageResetTopic';
    const group = 'GID_page_reset';
    await api.post('/topics', { topic, readQueueNums: 1, writeQueueNums: 1 });
    await api.post('/groups', { group });
    await checkFor(5000, 50, async () => (await api.get(`/topics/${topic}`)).status === 200, 'the route');
    const producer = await h.producer('GID_page_reset_p');
    await sendAll(producer, 3, (i) => new ons.Message(topic, 'T', `again-${i}`));
    const seen: string[] = [];
    await h.consumer({ consumerGroup: group }, topic, '*', async (msg: OnsMessage) => void seen.push(msg.body.toString()));
    await checkFor(15_000, 50, () => seen.length >= 3, 'first read');
    await checkFor(10_000, 100, async () => (await api.get(`/groups/${group}`)).body.totalLag === 0, 'offsets committed');
    const w = await openPage(browser);
    await visit(w, s.base, `#/group/${group}`, 'group');
    await w.page.selectOption('#reset-form [name=topic]', topic);
    await w.page.click('#reset-form button[type=submit]');
    await w.page.waitForSelector('#reset-result div', { timeout: 15_000 });
    const said = (await w.page.textContent('#reset-result')) ?? '';
    if (/not available on this broker yet/.test(said)) {
      assert.equal(seen.length, 3);
      return;
    }
    assert.match(said, /Offsets of PageResetTopic reset/);
    // ali-ons picks the new offsets up within a rebalance or two (about 15 s here).
    await checkFor(40_000, 50, () => seen.length >= 6, 'the consumer re-read');
    assert.deepEqual(seen.slice(3).sort(), ['again-0', 'again-1', 'again-2']);
    await w.page.close();
  });
});

void test('console browser - issue 16: the login page refuses a wrong password and lets the right one in', { skip }, async () => {
  await using s = await startConsoleStandalone({ consoleUser: 'ops', consolePassword: 'right-one' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const w = await openPage(browser);
    await w.page.goto(`${s.base}/#/topics`);
    await w.page.waitForSelector('body[data-ready="login"]');
    await shot(w.page, 'login');
    await w.page.fill('#login-form [name=user]', 'ops');
    await w.page.fill('#login-form [name=password]', 'wrong-one');
    await w.page.click('#login-form button[type=submit]');
    await w.page.waitForSelector('#login-error .error');
    assert.equal(await w.page.textContent('#login-error'), 'wrong user or password');
    assert.equal(await w.page.locator('#nav').isHidden(), true, 'nothing of the cluster shown');
    await w.page.fill('#login-form [name=password]', 'right-one');
    await w.page.click('#login-form button[type=submit]');
    await w.page.waitForSelector('body[data-ready="topics"]');
    assert.match(await w.page.textContent('main') ?? '', /TBW102|No topic matches/);
    // Only the refused login's 401 answer may show as a console error.
    assert.deepEqual(w.errors.filter((e) => !/401/.test(e)), []);
  } finally {
    await browser.close();
  }
});

void test('console browser - issue 16: with ACL on, an admin account signs in with its accessKey and secretKey; a non-admin one is refused', { skip }, async () => {
  using dir = tempDir('apogee-console-acl-');
  const aclFile = join(dir.path, 'plain_acl.yml');
  writeFileSync(aclFile, BASE_ACL);
  await using s = await startConsoleStandalone({ aclEnable: true, aclConfigFile: aclFile });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const w = await openPage(browser);
    await w.page.goto(`${s.base}/#/topics`);
    await w.page.waitForSelector('body[data-ready="login"]');
    assert.match(await w.page.textContent('#acl-hint') ?? '', /admin account signs in with its accessKey and secretKey/);
    await w.page.fill('#login-form [name=user]', APP.accessKey);
    await w.page.fill('#login-form [name=password]', APP.secretKey);
    await w.page.click('#login-form button[type=submit]');
    await w.page.waitForSelector('#login-error .error');
    assert.match(await w.page.textContent('#login-error') ?? '', /appKey0001 is not an admin account/);
    await w.page.fill('#login-form [name=user]', ADMIN.accessKey);
    await w.page.fill('#login-form [name=password]', ADMIN.secretKey);
    await w.page.click('#login-form button[type=submit]');
    await w.page.waitForSelector('body[data-ready="topics"]');
    assert.equal(await w.page.locator('.error').count(), 0);
    // The broker answers the console's reads, and its admin requests, because they are signed as the admin account.
    const created = await w.page.evaluate(async () => (await fetch('/api/topics', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":"AclPageTopic"}' })).status);
    assert.equal(created, 200);
    await visit(w, s.base, '#/cluster', 'cluster');
    assert.equal(await w.page.locator('.error').count(), 0, `${await w.page.locator('.error').allTextContents()}`);
    await visit(w, s.base, '#/topics', 'topics');
    assert.match(await w.page.textContent('main') ?? '', /AclPageTopic/);
    // Only the refused login's 403 answer may show as a console error.
    assert.deepEqual(w.errors.filter((e) => !/403/.test(e)), []);
  } finally {
    await browser.close();
  }
});
