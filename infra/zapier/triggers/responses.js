// REST-hook triggers: subscribe POST /hooks, unsubscribe DELETE /hooks/{id}, samples from GET /responses.
'use strict';

const outputFields = [
  { key: 'id', label: 'Response ID' }, { key: 'score', label: 'Score', type: 'integer' },
  { key: 'category', label: 'Category' }, { key: 'comment', label: 'Comment' }, { key: 'email', label: 'Email' },
  { key: 'name', label: 'Name' }, { key: 'source', label: 'Survey tool' }, { key: 'touchpoint', label: 'Touchpoint' },
  { key: 'campaign', label: 'Campaign' }, { key: 'locale', label: 'Locale' },
  { key: 'contact_id', label: 'Salesforce Contact ID' }, { key: 'account_id', label: 'Salesforce Account ID' },
  { key: 'responded_at', label: 'Responded at', type: 'datetime' },
  { key: 'previous_category', label: 'Previous category' },
  { key: 'turned_detractor', label: 'Turned detractor', type: 'boolean' },
];

const sample = {
  id: 'generic:sample-1', score: 3, category: 'detractor', comment: 'Setup took too long.',
  email: 'ada@example.com', name: 'Ada Lovelace', source: 'generic', touchpoint: 'onboarding', campaign: '',
  locale: 'en', contact_id: '', account_id: '', responded_at: '2026-01-05T10:00:00Z',
  received_at: '2026-01-05T10:00:01Z', previous_category: 'promoter', turned_detractor: true,
};

const hookTrigger = (key, event, noun, label, description) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    type: 'hook',
    performSubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${bundle.authData.base_url}/hooks`, method: 'POST',
        body: { target_url: bundle.targetUrl, event },
      });
      return response.data; // {id, secret, ...}: kept by Zapier as bundle.subscribeData
    },
    performUnsubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${bundle.authData.base_url}/hooks/${bundle.subscribeData.id}`, method: 'DELETE',
        skipThrowForStatus: true,
      });
      if (response.status >= 400 && response.status !== 404) {
        response.throwForStatus();
      }
      return {};
    },
    perform: (z, bundle) => [bundle.cleanedRequest],
    performList: async (z, bundle) => {
      const response = await z.request({
        url: `${bundle.authData.base_url}/responses`, params: { event, sample: '1', limit: '10' },
      });
      return response.data;
    },
    sample: { ...sample, event },
    outputFields,
  },
});

module.exports = {
  newResponse: hookTrigger('new_response', 'response.created', 'Response', 'New Response',
    'Triggers when a customer answers the NPS survey.'),
  newPromoter: hookTrigger('new_promoter', 'response.promoter', 'Promoter', 'New Promoter',
    'Triggers when a customer answers 9 or 10.'),
  newDetractor: hookTrigger('new_detractor', 'response.detractor', 'Detractor', 'New Detractor',
    'Triggers when a customer answers 0 to 6.'),
};
