"""Inference: a trained checkpoint turned into test features (test_feature: MGN's mirror
sum + L2 norm; extract: batched, cached), gallery folders searched (gallery) and models
exported (export)."""
