"""Organisations, roles and the scopes each role may hold."""
