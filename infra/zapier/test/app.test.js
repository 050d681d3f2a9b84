// Offline tests of the Zapier app: every HTTP call is mocked with nock; nothing reaches the network.
'use strict';

const assert = require('node:assert/strict');
const { test, beforeEach, afterEach } = require('node:test');
const nockModule = require('nock');

const nock = nockModule.default || nockModule;
const zapier = require('zapier-platform-core');

const App = require('../index');

const appTester = zapier.createAppTester(App);
const BASE = 'https://api.npsloop.test';
const authData = { base_url: BASE, api_key: 'npl_test', webhook_token: 'tok' };

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

test('three REST-hook triggers with samples and performList, and one action', () => {
  assert.deepEqual(Object.keys(App.triggers), ['new_response', 'new_promoter', 'new_detractor']);
  for (const trigger of Object.values(App.triggers)) {
    const op = trigger.operation;
    assert.equal(op.type, 'hook');
    for (const name of ['performSubscribe', 'performUnsubscribe', 'perform', 'performList']) {
      assert.equal(typeof op[name], 'function', `${trigger.key}.${name}`);
    }
    assert.ok(op.sample.id && op.sample.event);
  }
  assert.deepEqual(Object.keys(App.creates), ['record_response']);
  assert.equal(App.platformVersion, zapier.version);
});

test('the connection test calls /me with the API key', async () => {
  const scope = nock(BASE, { reqheaders: { 'x-api-key': 'npl_test' } })
    .get('/me').reply(200, { key_id: 'abc', name: 'zapier', label: 'npsloop (zapier)' });
  const result = await appTester(App.authentication.test, { authData });
  assert.equal(result.label, 'npsloop (zapier)');
  assert.ok(scope.isDone());
});

test('a refused key is an authentication error', async () => {
  nock(BASE).get('/me').reply(401, { error: 'a valid API key is required in the X-Api-Key header' });
  await assert.rejects(appTester(App.authentication.test, { authData }), /API key was refused/);
});

test('subscribing posts the target URL and event and keeps the id', async () => {
  const scope = nock(BASE, { reqheaders: { 'x-api-key': 'npl_test' } })
    .post('/hooks', { target_url: 'https://hooks.zapier.com/abc', event: 'response.detractor' })
    .reply(201, { id: 'sub_1', secret: 'whsec_x' });
  const bundle = { authData, targetUrl: 'https://hooks.zapier.com/abc' };
  const data = await appTester(App.triggers.new_detractor.operation.performSubscribe, bundle);
  assert.equal(data.id, 'sub_1');
  assert.ok(scope.isDone());
});

test('unsubscribing deletes the hook, and a hook already gone is fine', async () => {
  nock(BASE).delete('/hooks/sub_1').reply(204);
  nock(BASE).delete('/hooks/sub_2').reply(404, { error: 'no hook subscription sub_2' });
  const op = App.triggers.new_promoter.operation.performUnsubscribe;
  assert.deepEqual(await appTester(op, { authData, subscribeData: { id: 'sub_1' } }), {});
  assert.deepEqual(await appTester(op, { authData, subscribeData: { id: 'sub_2' } }), {});
});

test('a delivered hook becomes one trigger item, and performList gives samples with ids', async () => {
  const payload = { id: 'generic:1', event: 'response.created', score: 9 };
  const items = await appTester(App.triggers.new_response.operation.perform, { authData, cleanedRequest: payload });
  assert.deepEqual(items, [payload]);
  nock(BASE).get('/responses').query({ event: 'response.created', sample: '1', limit: '10' })
    .reply(200, [{ id: 'generic:2', score: 10 }, { id: 'generic:1', score: 9 }]);
  const list = await appTester(App.triggers.new_response.operation.performList, { authData });
  assert.deepEqual(list.map((i) => i.id), ['generic:2', 'generic:1']);
});

test('record a response posts flat JSON to /webhooks/zapier', async () => {
  const scope = nock(BASE, { reqheaders: { 'x-npsloop-token': 'tok' } })
    .post('/webhooks/zapier', { response_id: 'z-1', score: 4, email: 'ada@example.com' })
    .reply(202, { response_id: 'zapier:z-1' });
  const inputData = { response_id: 'z-1', score: 4, email: 'ada@example.com', comment: '' };
  const result = await appTester(App.creates.record_response.operation.perform, { authData, inputData });
  assert.equal(result.response_id, 'zapier:z-1');
  assert.ok(scope.isDone());
});
