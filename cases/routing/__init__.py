"""Routing: which track and organisation a case goes to (`triage`, pure), which mediator
(`scoring`, pure), the organisations' rosters and mediators' records (`roster`), and the
routing actions (`assignment`: joint choice, appointment, answers, changes, overrides), the
only writer of `models`."""
