"""Group disputes (issue 14): many consumers against one respondent over one booking."""
