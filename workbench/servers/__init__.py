"""Embedded servers: PostgreSQL and Valkey from wheels, run as daemons under ``.workbench/``."""
