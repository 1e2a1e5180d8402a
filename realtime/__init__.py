"""Live mediation rooms over WebSocket: the joint room and one caucus per party."""
