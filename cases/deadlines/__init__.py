"""Deadlines: the working-day calendar (`calendar_cn`), the pure engine that computes every
regime's deadline (`rules`), the deadline records of cases and the job that reminds of them
(`actions`, the only writer of `models`)."""
