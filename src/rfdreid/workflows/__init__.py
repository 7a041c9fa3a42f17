"""Workflows: the multi-step jobs the CLI runs: evaluation over splits and draws
(evaluate), train-then-evaluate (experiment), the paper's tables (reproduce) and the demo."""
