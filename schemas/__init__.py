"""The wire contract: marshmallow schemas for every payload RangerSync accepts or returns."""
