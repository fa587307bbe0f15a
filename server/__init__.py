"""RangerSync server: the Flask app, its services, models and command line."""
