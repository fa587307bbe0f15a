"""People: users, their role in each area, teams, sign-in and API tokens."""
