"""Time: the business calendar, deadline timers, calendar obligations and the daemon's ticker.

(Being built for the scheduling issue.)
"""
