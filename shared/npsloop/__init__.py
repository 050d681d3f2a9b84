"""npsloop: NPS responses from survey tools into Salesforce, scored and acted on (the Lambda layer)."""
