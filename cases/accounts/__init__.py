"""Accounts, organisations and partner platforms: who may act, and for which organisation.

Here rather than in the web shell so that every domain may read a user or an organisation
without importing `mediation`.
"""
