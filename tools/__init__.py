"""Tools, not services: the benchmarks (`bench/`) and the protobuf code generator. The
services never import them."""
