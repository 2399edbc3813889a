"""The base of every configuration section (:mod:`.schema`, :mod:`.schema_losses`)."""

import msgspec


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass
