"""The field side of sync and the protocol itself; never imports server/ or Flask."""
