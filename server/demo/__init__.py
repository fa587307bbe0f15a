"""The demo park that `make run` loads into an empty database."""
