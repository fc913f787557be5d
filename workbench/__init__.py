"""workbench: sync, threaded, multiprocess and async ingestion into real Postgres and Redis."""

__version__ = "0.1.0"
