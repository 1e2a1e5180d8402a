"""Live online sessions: scheduling, who may join a room, calendar files, the transcript."""
