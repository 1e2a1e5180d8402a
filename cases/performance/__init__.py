"""Performance of an effective agreement's terms: states, moves, reminders."""
