"""Scenario files: the frozen model, its schema, the loader and its error reports.

Also the catalog of shipped scenarios. Pure, except that loading reads the file it is given.
"""
