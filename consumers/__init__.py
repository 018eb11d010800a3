"""The Kafka side of the engine: the touchpoint consumer, its dead letters, and an upstream-like producer.

`journey` never imports this package; it plugs its `consume` and `produce` commands into the
`journey` command line through the `journey.commands` entry-point group.
"""
