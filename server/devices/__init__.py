"""Handhelds: one-time enrolment codes, device tokens, revocation."""
