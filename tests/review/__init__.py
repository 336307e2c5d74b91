"""Tests of hardneg.review: the decision log, the session, the page's API, its durability and its security."""
