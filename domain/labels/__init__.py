"""The Bashan eco-label: schemes, accreditation, certification, label codes, lots and counterfeit suspicion."""
