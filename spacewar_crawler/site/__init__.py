"""Site knowledge, plain code: the URL rules of the network's sites."""
