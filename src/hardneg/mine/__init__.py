"""Hard-negative mining: pools of items, scorers, selection of candidates, and the engines that run them."""
