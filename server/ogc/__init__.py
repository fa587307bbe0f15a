"""OGC API – Features for partners under /ogc/: per-area collections, partner-safe by design."""
