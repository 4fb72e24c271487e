"""Local emulators of the source systems' APIs, on the kit in ``sandbox.kit``.

The package path extends over every ``sandbox/`` folder on ``sys.path`` (``pkgutil.extend_path``),
so a sandbox generated or developed outside this checkout imports as ``sandbox.<name>`` too.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
