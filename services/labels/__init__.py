"""Eco-label use cases: schemes, accreditation, certification, surveillance, code batches, verification, lots."""
