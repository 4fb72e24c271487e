"""Spreadsheet drop folder: .xlsx and .csv exports (offline-store sales, stock counts) into the warehouse.

See README.md in this package for the mapping format, what is accepted, quarantine and replace semantics.
"""

from .connector import SpreadsheetConnector

connector = SpreadsheetConnector()

__all__ = ["SpreadsheetConnector", "connector"]
