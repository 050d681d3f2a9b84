// Every request carries the API key; a 401 becomes Zapier's AuthenticationError (the user reconnects).
'use strict';

const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers['X-Api-Key'] = bundle.authData.api_key;
  }
  return request;
};

const handleErrors = (response, z) => {
  if (response.status === 401) {
    throw new z.errors.Error('The API key was refused: check it or create a new one.', 'AuthenticationError', 401);
  }
  return response;
};

module.exports = { befores: [addApiKey], afters: [handleErrors] };
