"""Archive SpaceWar.com and its Space Media Network sister sites into MongoDB."""
