"""Sync, both ends of it. `sync.protocol` is the wire both sides share (stdlib and numpy only,
nothing of ours); `sync.device` is the reference device: client and outbox, simulators, GPX
import, map packages. The server imports only the protocol."""
