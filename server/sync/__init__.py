"""Field sync, server side: exactly-once push, quarantine and conflicts, commit-ordered pull."""
