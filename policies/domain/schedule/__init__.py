"""When a policy runs: fixed offsets, named zones and their local times, run instants, next runs."""
