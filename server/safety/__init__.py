"""Ranger safety: positions, per-area thresholds, SOS, the automatic rules and the live feed."""
