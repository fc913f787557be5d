"""Reliability runs: every scenario of trouble, every record accounted for, in one table."""
