"""Background workers that fill Redis: camera analysis, OPD feeds, status, simulators."""
