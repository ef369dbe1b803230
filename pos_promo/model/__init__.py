"""The wire types: msgspec Structs that JSON decodes into and encodes from.

Every struct here is declared ``gc=False``: its instances are not tracked
by the cyclic garbage collector. They are values (frozen, or holding only
strings, numbers, dates, tuples and other such structs, and dicts of
those), so they cannot form a reference cycle, and a till that decodes its
campaigns and a cart and builds a result allocates tens of thousands of
them: tracked, they make the collector run and walk them (opening a
1,000-campaign till and one evaluation: ~1.5 ms of collection).
``tests/test_model_untracked.py`` holds every struct to it.

The modules here do not use ``from __future__ import annotations``: their
annotations are evaluated as each class is defined, by bytecode the
interpreter caches. msgspec reads a struct's annotations when the first
decoder reaching it is built, and an annotation kept as a string costs a
``compile`` and an ``eval`` there (a campaign reaches some 150: ~5 ms of a
till's start, at its first open). ``tests/test_model_annotations.py`` holds
every struct to it.
"""
