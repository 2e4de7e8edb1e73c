"""Reporting: statistics, summaries, comparisons, regression tests, sweeps, plots and report pages."""
