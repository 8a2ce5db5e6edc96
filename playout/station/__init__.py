"""The station's rules and state: ladder, webstream health, schedule, timeline, the core.

Pure: no trio, no clock, no I/O.
"""
