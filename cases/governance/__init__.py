"""District governance: who looked at which figures (the view log), and what the public may
see of them (small-cell suppression). The figures themselves are `cases.analytics`."""
