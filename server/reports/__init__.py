"""Incident and observation reports, their categories and their evidence files."""
