"""The sync daemon: an APScheduler 3.x process that runs the sync steps.

No business rules live here: the jobs call :mod:`pos_promo.sync`. This
package adds configuration, one-daemon-per-database locking, scheduling
(``max_instances=1``, coalescing, a grace time near one interval), one log
line per job run and a clean stop on SIGTERM and SIGINT.
"""
