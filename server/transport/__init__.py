"""The served fast path: direct socket writes and one-task WebSockets.

With the patches to Hypercorn's and Quart-Trio's internals it relies on, checked at startup.
"""
