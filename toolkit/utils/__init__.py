"""Small helpers shared by every stage: atomic writes, done markers, logging, sharding, devices."""
