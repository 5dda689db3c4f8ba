"""Conversion events the lending platform reports, from intake to the ledger."""
