"""The pure core: every rule of the contract and the schedule maths, one concern per module.

Nothing in this package imports Django or reads the clock: callers pass ``now`` where time
matters. The API, the dashboard form and the admin site all hand a payload to
:func:`policies.domain.contract.parse.parse_policy` and show the problems it returns.
"""
