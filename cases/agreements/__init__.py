"""The mediation agreement: its rules (text, versions, signatures, seal), models and actions."""
