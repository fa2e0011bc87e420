"""Use cases, persistence and workers of Bashan Exchange."""
