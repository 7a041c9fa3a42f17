"""Training: the loop (trainer), what it draws (samplers), how fast it learns (schedule,
precision), where it runs (distributed, seeding) and what it leaves (checkpoint, runlock,
finetune: starting from another checkpoint)."""
