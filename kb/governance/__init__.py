"""Governance: roles, user accounts, the audit chain, e-signatures, backup and transfer packages."""
