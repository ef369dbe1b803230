"""Sync with HQ: the protocol, the client, and the steps the daemon runs.

- :mod:`~pos_promo.sync.protocol`: the msgspec types shared with ``hq/``;
- :mod:`~pos_promo.sync.client`: HTTP with timeouts, backoff, Retry-After;
- :mod:`~pos_promo.sync.steps`: pull changes, pull member state, push events;
- :mod:`~pos_promo.sync.changes`, :mod:`~pos_promo.sync.members`,
  :mod:`~pos_promo.sync.outbox`: applying pages and verdicts to the till's
  database, one transaction each;
- :mod:`~pos_promo.sync.local`: sync's own tables and migrations;
- :mod:`~pos_promo.sync.status` and :mod:`~pos_promo.sync.cli`: ``pos-promo status``;
- :mod:`~pos_promo.sync.errors`: why a sync did not happen.

``store`` never imports this package; the till's commit path never touches
the network.
"""
