"""Pure domain model of Bashan Exchange: rules, state machines, calculations. No I/O."""
