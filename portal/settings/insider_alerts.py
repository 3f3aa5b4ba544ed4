"""The thresholds of the insider-leak alert (``portal/oversight``): a member of staff is flagged on a
local day when they were shown the data of more than ``distinct_customers`` different customers that
day AND more than ``factor`` times their usual daily number.

Their usual number is the average, over the days of the previous 30 on which they were shown any
customer's data, of the different customers shown each such day (days off do not lower it).

The defaults: 50 customers is about twice a busy day's work of a member of customer care (a queue
page alone names up to 50 customers), so an ordinary day never reaches it; three times the usual is
far above a busy day's swing (a Monday after a holiday is about twice an ordinary day) and well below
what copying a list of customers gives. Both must be passed, so a member whose work is to look at
many customers is flagged only if they look at far more than they usually do, and a member who
usually looks at few is not flagged for a busy but ordinary day.

Stored as the setting ``insider_alerts`` over these defaults; the administrator edits it on the
settings page. A stored value outside the allowed range is ignored in favour of the default."""

from __future__ import annotations

from datetime import datetime

from portal.settings.services import get_setting, plain, save_setting

KEY = "insider_alerts"
DEFAULTS = {"distinct_customers": 50, "factor": 3.0}
USUAL_DAYS = 30  # the days before the day in question that make a member's usual number
CUSTOMERS_RANGE = (1, 10000)
FACTOR_RANGE = (1.0, 20.0)


def insider_thresholds(stored: dict | None = None) -> dict:
    """``distinct_customers`` (int) and ``factor`` (float) in force (from ``stored``, the setting as
    already read, if given)."""
    stored = get_setting(KEY, DEFAULTS) if stored is None else stored
    customers, factor = stored.get("distinct_customers"), stored.get("factor")
    if not (isinstance(customers, int) and not isinstance(customers, bool)
            and CUSTOMERS_RANGE[0] <= customers <= CUSTOMERS_RANGE[1]):
        customers = DEFAULTS["distinct_customers"]
    if not (isinstance(factor, int | float) and not isinstance(factor, bool)
            and FACTOR_RANGE[0] <= factor <= FACTOR_RANGE[1]):
        factor = DEFAULTS["factor"]
    return {"distinct_customers": customers, "factor": float(factor)}


def save_insider_thresholds(distinct_customers: int, factor: float, actor, now: datetime) -> bool:
    """Store the thresholds if they changed (audited with the old and new value); True when they did."""
    old = insider_thresholds()
    new = {"distinct_customers": int(distinct_customers), "factor": round(float(factor), 1)}
    if plain(new) == old:
        return False
    save_setting(KEY, new, actor, now, old=old)
    return True
