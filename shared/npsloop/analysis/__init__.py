"""Comment analysis: themes from a keyword taxonomy (pure), sentiment from Amazon Comprehend when enabled."""
