"""The wire types: msgspec Structs that JSON decodes into and encodes from.

Every struct here is declared ``gc=False``: its instances are not tracked
by the cyclic garbage collector. They are values (frozen, or holding only
strings, numbers, dates, tuples and other such structs, and dicts of
those), so they cannot form a reference cycle, and a till that decodes its
campaigns and a cart and builds a result allocates tens of thousands of
them: tracked, they make the collector run and walk them (opening a
1,000-campaign till and one evaluation: ~1.5 ms of collection).
``tests/test_model_untracked.py`` holds every struct to it.
"""
