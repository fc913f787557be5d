"""Reliability runs: every kind of trouble in every mode, every record accounted for.

``workbench reliability`` (``make reliability``) runs each scenario and writes one table:

    scenarios.py   the scenarios as data, the plans (full, quick), the ``--scenario`` flag
    runs.py        one runner per scenario group: the trouble made, the runs' statuses
    cli_runs.py    ``workbench ingest`` as a child process: signals, kills, exit statuses
    soak.py        the soak: a long run through every fault kind, watched for growth
    probes.py      memory of a process tree over time; handles counted before and after
    accounting.py  served, landed, rejected, duplicated, lost: how each is counted
    workspace.py   a new database, a clean Redis, servers to break, for every row
    table.py       the rows judged, written as CSV and Markdown, read back
    suite.py       every scenario in each of its modes, the table written as it grows
"""
