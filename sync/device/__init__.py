"""The device side: the reference client with its SQLite outbox, the field simulators, GPX import,
the offline map-package installer and the `simulate` / `gpx` commands. Never imports server/."""
