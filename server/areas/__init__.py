"""Protected areas, their zones and map features."""
