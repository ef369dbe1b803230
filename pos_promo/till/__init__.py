"""The till's orchestration behind :class:`pos_promo.Engine`.

Each operation reads through the store (:mod:`pos_promo.store`), computes
through the pure engine (:mod:`pos_promo.engine`) and records through the
store, inside the one transaction the face opens. The store never decides
and the engine never touches the database; these modules are where the
two meet, one job each: the compiled campaign cache, the checks every
door shares, evaluation and commit, refunds, gifts, and the reports.
"""
