"""Structured capture: YAML templates and the controlled vocabulary that turn answers into Entry drafts."""
