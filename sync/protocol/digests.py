"""Digests both sides compute the same way: the tiles of an offline map package."""

from __future__ import annotations

import hashlib
import sqlite3


def tiles_digest(db: sqlite3.Connection) -> str:
    """SHA-256 over every tile (zoom, column, row, SHA-256 of its bytes), in key order.

    It identifies an MBTiles package's tiles whatever the SQLite file's layout, so a device that
    applied a delta checks the result against the digest the server published for the build."""
    digest = hashlib.sha256()
    rows = db.execute(
        "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
        " ORDER BY zoom_level, tile_column, tile_row"
    )
    for z, x, y, data in rows:
        digest.update(f"{z}/{x}/{y}:{hashlib.sha256(data).hexdigest()}\n".encode())
    return digest.hexdigest()
