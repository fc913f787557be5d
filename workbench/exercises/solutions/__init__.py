"""The model answers, one module per exercise, each defining exactly what its exercise asks.

Where the package already has the reference implementation the model answer *is* that
implementation, re-exported (``retry``, ``errors``); where it has most of it the answer
adapts it (``upsert``, ``dedup``, the sync half of ``transaction``); where it has none the
answer is written here (``settings``, ``async_fetch``, ``thread_fetch``, the async half of
``transaction``), interview-sized and tested by the same behaviours.
"""
