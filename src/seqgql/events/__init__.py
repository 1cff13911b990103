"""Events: the append-only log of status changes and how subscribers hear of it."""
