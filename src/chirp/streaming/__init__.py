"""Live updates: an event bus between processes, and the streams clients hold open."""
