"""Organisations, users, API keys and tokens."""
