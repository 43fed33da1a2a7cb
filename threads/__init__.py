"""Threads shared by tasks: the one elastic pool of daemon threads (task_pool.py)."""
