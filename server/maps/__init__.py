"""Protected-area maps: layer import, GeoJSON and vector tiles, offline map packages."""
