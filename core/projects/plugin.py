"""Staged projects: budgets split into stages with escrow accounts."""
