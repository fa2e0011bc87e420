"""HTTP API and command line of Bashan Exchange."""
