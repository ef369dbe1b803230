"""The till's local SQLite store: campaign cache, orders, ledger, outbox.

Small modules, one concern each; :class:`pos_promo.embedded.Engine` is the
object that ties them into transactions. ``store`` never imports ``sync``.
"""

from pos_promo.store.connection import Durability, connect, immediate
from pos_promo.store.schema import MIGRATIONS

__all__ = ["MIGRATIONS", "Durability", "connect", "immediate"]
