// API-key authentication: the key goes in the X-Api-Key header; the connection test is GET /me.
'use strict';

const test = async (z, bundle) => {
  const response = await z.request({ url: `${bundle.authData.base_url}/me` });
  return response.data;
};

module.exports = {
  type: 'custom',
  fields: [
    { key: 'base_url', label: 'npsloop API URL', required: true, type: 'string',
      helpText: 'The `ApiUrl` output of your npsloop stack, e.g. `https://abc123.execute-api.eu-central-1.amazonaws.com`.' },
    { key: 'api_key', label: 'API key', required: true, type: 'password',
      helpText: 'Create one with `npsloop apikey create --name zapier --stack <your stack>`.' },
    { key: 'webhook_token', label: 'Zapier source token (for "Record a response")', required: false, type: 'password',
      helpText: 'The `sources.zapier` token from the npsloop secret; only the "Record a response" action needs it.' },
  ],
  test,
  connectionLabel: '{{json.label}}',
};
