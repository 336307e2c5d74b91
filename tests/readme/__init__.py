"""README.md as tests: every shell and Python block of the README runs, as written, on small inputs.

``_blocks`` parses the README and holds the registry (each block -> the test that runs it), ``_worlds``
prepares the inputs the blocks name (``logs/``, ``events.csv``, ``pool/``, ``clips/``, ``cams/``,
``../shared/data/mitdb``) and runs the blocks; a meta-test fails on a block that no test runs.
"""
