"""Patrols and legs in SMART's model, and their GPS tracks."""
