"""Salesforce: the REST client and the sync of scored responses into NPS_Response__c."""
