"""Endings: mediation ended as failed, withdrawn or timed out, with the Art. 21 record the
mediator writes and the parties told their other routes (`actions`, the only writer of
`models`). What follows at the court is `cases.court`."""
