"""Adapters to AWS storage and messaging: the only modules of the layer that talk to boto3."""
