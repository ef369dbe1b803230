"""The reference HQ: a real HTTP server speaking the sync protocol.

It stores everything in SQLite (the embedded default: the demo,
development, the quick tests) or PostgreSQL (production: any number of HQ
processes share one database), behind one interface (:mod:`.db`, schema in
:mod:`.migrations`). It serves published documents and each store's
members' state in pages, ingests event batches all or nothing with
per-event verdicts (events are owned by the store that first sent them),
adds participation counts up across stores, replays each order's receipt
with the same pure engine from a queue off the push's path, and has fault
switches so tests can make it misbehave on purpose.

It imports from the till's side only the protocol types
(:mod:`pos_promo.sync.protocol`), the wire model and the pure engine
(:mod:`pos_promo.codec`, :mod:`pos_promo.engine`) to replay receipts.
"""
