"""What every capability shares: configuration, database, errors, authorization and audit."""
