"""The ledger's pure rules: result codes, transfer flags, sealing (canonical encoding, Merkle roots), serial ranges."""
