"""The reference HQ: a real HTTP server speaking the sync protocol.

For development, the demo and the end-to-end tests. It stores everything
in SQLite, serves published documents and member state in pages, ingests
event batches all or nothing with per-event verdicts, adds participation
counts up across stores, replays each order's receipt with the same pure
engine, and has fault switches so tests can make it misbehave on purpose.

It imports from the till's side only the protocol types
(:mod:`pos_promo.sync.protocol`), the wire model and the pure engine
(:mod:`pos_promo.codec`, :mod:`pos_promo.engine`) to replay receipts.
"""
