"""Seizures: what was seized, where and how, recorded once in the field; the CITES report."""
