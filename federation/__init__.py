"""The alliance: settings, the record store, members and regions, statistics, reports, the CLI."""

__version__ = "0.1.0"
