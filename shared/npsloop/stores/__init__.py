"""Adapters to AWS storage and messaging, on npsloop.aws's clients."""
