"""Short, human durations for messages: "3 h ago", "in 40 min"."""

from __future__ import annotations

from datetime import datetime, timedelta


def duration(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes and hours < 10 else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours and days < 7 else f"{days} d"


def business_duration(delta: timedelta) -> str:
    """Business time reads in hours past a day ("40 h"): a "day" of business time is not
    24 hours, so "1 d 16 h" would mislead."""
    hours = int(abs(delta.total_seconds())) // 3600
    if hours < 24:
        return duration(delta)
    return f"{hours} h"


def ago(then: datetime, now: datetime) -> str:
    if now - then < timedelta(seconds=60):
        return "just now"
    return f"{duration(now - then)} ago"
