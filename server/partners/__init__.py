"""Conservation partners: partner keys (scoped, expiring, rate-limited, logged) and geoprivacy."""
