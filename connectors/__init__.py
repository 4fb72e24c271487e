"""Connector packages, one per source system, on the SDK in ``connectors.sdk``.

The package path extends over every ``connectors/`` folder on ``sys.path`` (``pkgutil.extend_path``),
so a connector generated or developed outside this checkout imports as ``connectors.<name>`` too.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
