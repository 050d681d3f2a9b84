// npsloop's private Zapier integration: `zapier push` from this folder (Zapier CLI) after `npm ci`.
'use strict';

const authentication = require('./authentication');
const middleware = require('./middleware');
const { newResponse, newPromoter, newDetractor } = require('./triggers/responses');
const recordResponse = require('./creates/record_response');

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: middleware.befores,
  afterResponse: middleware.afters,
  triggers: {
    [newResponse.key]: newResponse,
    [newPromoter.key]: newPromoter,
    [newDetractor.key]: newDetractor,
  },
  creates: { [recordResponse.key]: recordResponse },
};
