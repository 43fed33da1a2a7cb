"""The parts of `bench/load.py`: child processes, the bot's webhook, the API driver, the bare baselines."""
