"""Crowdinvesting: investing in staged projects, income distribution, certificates and referrals."""
