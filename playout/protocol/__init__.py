"""What goes into a station and what comes out.

Inputs, the documented events, their schemas, the wire encoding and station time. Pure.
"""
