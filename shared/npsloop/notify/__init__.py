"""Telling people about responses that need them: alert channels and the notify service."""
