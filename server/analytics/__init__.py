"""Patrol coverage and effort analytics: track cleaning, the coverage grid, findings against effort,
plans, device sync health, exports."""
