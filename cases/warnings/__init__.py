"""Early warnings for district governance: rules, alerts, notes and suggestion letters."""
