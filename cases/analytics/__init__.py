"""District analytics (issue 13): each case's facts and the rollups the governance figures
read, kept up to date from the journal's events by a job, and rebuilt by a recount."""
