// The action "Record a response": flat JSON to POST /webhooks/zapier, as "Webhooks by Zapier" would send it.
'use strict';

module.exports = {
  key: 'record_response',
  noun: 'Response',
  display: { label: 'Record a Response', description: 'Records an NPS answer collected elsewhere in npsloop.' },
  operation: {
    inputFields: [
      { key: 'response_id', label: 'Response ID', required: true,
        helpText: 'A stable id for this answer in the tool it comes from; the same id again changes nothing.' },
      { key: 'score', label: 'Score (0-10)', required: true, type: 'integer' },
      { key: 'email', label: 'Email' }, { key: 'name', label: 'Name' }, { key: 'comment', label: 'Comment', type: 'text' },
      { key: 'touchpoint', label: 'Touchpoint' }, { key: 'campaign', label: 'Campaign' }, { key: 'locale', label: 'Locale' },
      { key: 'contact_id', label: 'Salesforce Contact ID' }, { key: 'responded_at', label: 'Responded at', type: 'datetime' },
    ],
    perform: async (z, bundle) => {
      const body = {};
      for (const [key, value] of Object.entries(bundle.inputData)) {
        if (value !== undefined && value !== null && value !== '') body[key] = value;
      }
      const headers = {};
      if (bundle.authData.webhook_token) headers['X-Npsloop-Token'] = bundle.authData.webhook_token;
      const response = await z.request({
        url: `${bundle.authData.base_url}/webhooks/zapier`, method: 'POST', body, headers,
      });
      return response.data;
    },
    sample: { response_id: 'zapier:sample-1' },
  },
};
