"""``make bench``: scripts that print figures (nothing in the test suite is timed)."""


def line(label: str, value: str) -> None:
    """One aligned figure of a benchmark's report."""
    print(f"  {label:<58} {value}", flush=True)
