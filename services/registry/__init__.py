"""The forest-carbon registry's use cases: methodologies, verifiers, projects, monitoring, issuance and credits."""
