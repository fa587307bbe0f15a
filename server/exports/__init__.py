"""Exports of an area's partner-visible data: GeoPackage, CSV, GeoJSON, GPX, KML, Darwin Core."""
