"""Reading the contract: error codes, limits, strict decoding, the field checks and the bodies.

A body goes in as decoded JSON and comes out as a ``PolicySpec`` (``specs``) or every
``Problem`` (``codes``) found, in the contract's order.
"""
