"""Evidence for court: items, signed receipts, custody, cases, forensic results, packages."""
