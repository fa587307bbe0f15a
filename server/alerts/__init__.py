"""Ranger safety: geofenced alerts, SOS and automatic safety rules."""
