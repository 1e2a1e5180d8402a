"""Merchants answer first (先行协商): enrolment, negotiation, settlement."""
